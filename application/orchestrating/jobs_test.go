package orchestrating_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
)

// TestJobPayloadsRoundTrip fills every field of every type that crosses
// the job queue (and the run's stored discovery output) and checks that
// it reads back as written. A configuration type that writes itself one
// way and cannot read itself back (as step secrets once did) fails here
// the day it is added to a payload.
func TestJobPayloadsRoundTrip(t *testing.T) {
	for _, v := range []any{
		&orchestrating.DiscoveryJob{},
		&orchestrating.TaskJob{},
		&orchestrating.TaskResult{},
		&orchestrating.ArtifactJob{},
		&artifact.Output{},
		&discovery.Output{},
	} {
		t.Run(reflect.TypeOf(v).Elem().String(), func(t *testing.T) {
			fill(reflect.ValueOf(v).Elem(), 0)
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			if err := json.Unmarshal(b, back); err != nil {
				t.Fatalf("Unmarshal %s: %v", b, err)
			}
			if !reflect.DeepEqual(v, back) {
				b2, _ := json.Marshal(back)
				t.Errorf("round trip changed the value:\nwrote %s\nread  %s\nwant  %#v\ngot   %#v", b, b2, v, back)
			}
		})
	}
}

// TestStepSecretsReachTheWorker is the case that was broken: a step's
// file and env secret references, written into a CI job, come back with
// their provider fields.
func TestStepSecretsReachTheWorker(t *testing.T) {
	tj := orchestrating.TaskJob{Steps: []orchestrating.TaskStep{{ID: "s1", Step: config.Step{Name: "build", Secrets: []config.SecretRef{
		{Provider: "file", Config: map[string]any{"path": "/run/secrets/token"}, Env: "TOKEN"},
		{Provider: "env", Config: map[string]any{"name": "FORGE_SECRET_NPM"}},
	}}}}}
	b, err := json.Marshal(tj)
	if err != nil {
		t.Fatal(err)
	}
	var back orchestrating.TaskJob
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got := back.Steps[0].Secrets
	if len(got) != 2 || got[0].Config["path"] != "/run/secrets/token" || got[0].Env != "TOKEN" || got[1].Config["name"] != "FORGE_SECRET_NPM" || got[1].Provider != "env" {
		t.Fatalf("secrets after the queue: %+v", got)
	}
}

var positionType = reflect.TypeOf(config.Position{})

// fill sets every field that JSON carries to a value that is not zero:
// one element per slice and map, "v<n>" for strings. Positions are left
// out: they describe where configuration was read and never cross.
func fill(v reflect.Value, n int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(n + 1))
	case reflect.Interface:
		v.Set(reflect.ValueOf(fmt.Sprintf("any%d", n)))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n+1)
	case reflect.Slice:
		if v.Type().Elem() == reflect.TypeOf(byte(0)) {
			v.SetBytes([]byte(`{"raw":true}`))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), n+1)
		v.Set(s)
	case reflect.Map:
		if v.Type().Elem() == positionType {
			return
		}
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, n+100)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, n+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" || f.Type == positionType {
				continue
			}
			fill(v.Field(i), n+i)
		}
	default:
		panic(fmt.Sprintf("fill: add a case for %s", v.Type()))
	}
}
