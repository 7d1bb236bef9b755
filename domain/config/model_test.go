package config_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/config"
)

func TestProducerCount(t *testing.T) {
	tests := []struct {
		name string
		p    config.Producer
		want int
	}{
		{"none", config.Producer{Pos: config.Position{File: "a.cue"}}, 0},
		{"earthly", config.Producer{Earthly: &config.EarthlyProducer{Target: "+build"}}, 1},
		{"script", config.Producer{Script: &config.ScriptProducer{Run: "make", Output: "out"}}, 1},
		{"both", config.Producer{Earthly: &config.EarthlyProducer{}, Script: &config.ScriptProducer{}}, 2},
	}
	for _, tt := range tests {
		if got := tt.p.Count(); got != tt.want {
			t.Errorf("%s: Count() = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestMarshalJSON(t *testing.T) {
	pos := config.Position{File: ".forge/repo.cue", Line: 9, Column: 3}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{
			name: "publisher is flat",
			v: config.Publisher{
				Type:        "docker",
				Settings:    map[string]any{"registry": "r.example.com", "namespace": "team"},
				Credentials: &config.SecretRef{Provider: "aws", Config: map[string]any{"path": "docker/creds"}, Pos: pos},
				Pos:         pos,
			},
			want: `{"credentials":{"path":"docker/creds","provider":"aws"},"namespace":"team","registry":"r.example.com","type":"docker"}`,
		},
		{
			name: "publisher without credentials or settings",
			v:    config.Publisher{Type: "docs"},
			want: `{"type":"docs"}`,
		},
		{
			name: "publisher type wins over a type setting",
			v:    config.Publisher{Type: "github", Settings: map[string]any{"type": "other", "owner": "o"}},
			want: `{"owner":"o","type":"github"}`,
		},
		{
			name: "secret ref with env",
			v:    config.SecretRef{Provider: "vault", Config: map[string]any{"path": "gh", "key": "token"}, Env: "GH_TOKEN", Pos: pos},
			want: `{"env":"GH_TOKEN","key":"token","path":"gh","provider":"vault"}`,
		},
		{
			name: "secret ref without env",
			v:    config.SecretRef{Provider: "aws", Config: map[string]any{"secretName": "x"}},
			want: `{"provider":"aws","secretName":"x"}`,
		},
		{
			name: "phase leaves out its position and empty optionals",
			v:    config.Phase{Group: 2, Required: true, Pos: pos},
			want: `{"group":2,"required":true}`,
		},
		{
			name: "step leaves out its position",
			v:    config.Step{Name: "unit", Action: config.ActionEarthly, Target: "+unit", Priority: 5, Args: []string{"--ci"}, Secrets: []config.SecretRef{}, Pos: pos},
			want: `{"name":"unit","action":"earthly","target":"+unit","priority":5,"args":["--ci"],"secrets":[]}`,
		},
		{
			name: "trigger leaves out its position",
			v:    []config.Trigger{{Branch: "main", Pos: pos}, {Tag: true, Pos: pos}},
			want: `[{"branch":"main"},{"tag":true}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(b) != tt.want {
				t.Errorf("Marshal =\n%s\nwant\n%s", b, tt.want)
			}
		})
	}
}

func TestUnmarshalFlatJSON(t *testing.T) {
	var ref config.SecretRef
	if err := json.Unmarshal([]byte(`{"provider":"vault","path":"gh","version":3,"env":"GH"}`), &ref); err != nil {
		t.Fatal(err)
	}
	if ref.Provider != "vault" || ref.Env != "GH" || ref.Config["path"] != "gh" || ref.Config["version"] != json.Number("3") || len(ref.Config) != 2 {
		t.Errorf("SecretRef = %+v", ref)
	}
	var pub config.Publisher
	if err := json.Unmarshal([]byte(`{"type":"docker","registry":"r","credentials":{"provider":"aws","secretName":"x"}}`), &pub); err != nil {
		t.Fatal(err)
	}
	if pub.Type != "docker" || pub.Settings["registry"] != "r" || len(pub.Settings) != 1 || pub.Credentials == nil || pub.Credentials.Config["secretName"] != "x" {
		t.Errorf("Publisher = %+v (credentials %+v)", pub, pub.Credentials)
	}
	for _, bad := range []struct{ doc, want string }{
		{`{"provider":3}`, "secret reference: provider must be a string"},
		{`{"provider":"env","env":["A"]}`, "secret reference: env must be a string"},
		{`[1]`, "cannot unmarshal array"},
	} {
		err := json.Unmarshal([]byte(bad.doc), &ref)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Unmarshal(%s) = %v, want %q", bad.doc, err, bad.want)
		}
	}
	if err := json.Unmarshal([]byte(`{"type":"docker","credentials":{"provider":1}}`), &pub); err == nil || !strings.Contains(err.Error(), "publisher credentials") {
		t.Errorf("bad credentials: %v", err)
	}
}
