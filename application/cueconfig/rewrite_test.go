package cueconfig

import (
	"reflect"
	"testing"
)

func TestValueAttributes(t *testing.T) {
	cases := []struct {
		name, src, want string
		shifts          shifts
	}{
		{"blank becomes the placeholder", `a: @x(1)`, `a:_@x(1)`, nil},
		{"tab becomes the placeholder", "a:\t@x(1)", `a:_@x(1)`, nil},
		{"no blank inserts one byte", `a:@x(1)`, `a:_@x(1)`, shifts{{1, 3}}},
		{"two on a line", "a: {b:@x(1), c:@y(2)}", "a: {b:_@x(1), c:_@y(2)}", shifts{{1, 7}, {1, 17}}},
		{"attribute after a value untouched", `a: string @x(1)`, `a: string @x(1)`, nil},
		{"declaration attribute untouched", "@if(prod)\na: 1", "@if(prod)\na: 1", nil},
		{"string content untouched", `a: "b: @x(1)"`, `a: "b: @x(1)"`, nil},
		{"comment untouched", "// a: @x(1)\na: 1", "// a: @x(1)\na: 1", nil},
		{"interpolation then attribute", `a: "\(b): @x" + "c", d: @y(1)`, `a: "\(b): @x" + "c", d:_@y(1)`, nil},
		{"nested interpolation", `a: "\("\(b)"): @x", d:@y(1)`, `a: "\("\(b)"): @x", d:_@y(1)`, shifts{{1, 23}}},
		{"second line", "a: 1\nb:@x(1)", "a: 1\nb:_@x(1)", shifts{{2, 3}}},
		{"unscannable source left alone", "a: \"unterminated\nb: @x(1)", "a: \"unterminated\nb: @x(1)", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, sh := valueAttributes("f.cue", []byte(c.src))
			if string(got) != c.want {
				t.Errorf("valueAttributes(%q) = %q, want %q", c.src, got, c.want)
			}
			if !reflect.DeepEqual(sh, c.shifts) {
				t.Errorf("shifts = %v, want %v", sh, c.shifts)
			}
		})
	}
}

func TestShiftsColumn(t *testing.T) {
	// "a: {b:@x(1), c:@y(2)}" rewritten as "a: {b:_@x(1), c:_@y(2)}".
	sh := shifts{{1, 7}, {1, 17}, {2, 3}}
	cases := []struct{ line, col, want int }{
		{1, 1, 1},   // before any insertion
		{1, 7, 7},   // the placeholder maps to the attribute's column
		{1, 8, 7},   // the attribute itself
		{1, 17, 16}, // the second placeholder maps to the second attribute
		{1, 18, 16}, // the second attribute itself
		{1, 30, 28}, // after both
		{2, 10, 9},
		{3, 10, 10}, // another line
	}
	for _, c := range cases {
		if got := sh.column(c.line, c.col); got != c.want {
			t.Errorf("column(%d, %d) = %d, want %d", c.line, c.col, got, c.want)
		}
	}
}

func TestSplitAttrArgs(t *testing.T) {
	cases := []struct {
		body string
		want []attrArgument
		err  bool
	}{
		{`path="a.b"`, []attrArgument{{"path", "a.b"}}, false},
		{`"web.uri"`, []attrArgument{{"", "web.uri"}}, false},
		{` path = "a,b" , x`, []attrArgument{{"path", "a,b"}, {"", "x"}}, false},
		{`"a=b"`, []attrArgument{{"", "a=b"}}, false},
		{`"esc\"aped"`, []attrArgument{{"", `esc"aped`}}, false},
		{`"open`, nil, true},
		{``, nil, false},
	}
	for _, c := range cases {
		got, err := splitAttrArgs(c.body)
		if (err != nil) != c.err || !reflect.DeepEqual(got, c.want) {
			t.Errorf("splitAttrArgs(%q) = %v, %v; want %v (error %v)", c.body, got, err, c.want, c.err)
		}
	}
}
