package envdefault

import (
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	t.Setenv("FORGE_ENVDEFAULT_S", "x")
	t.Setenv("FORGE_ENVDEFAULT_I", "7")
	t.Setenv("FORGE_ENVDEFAULT_D", "90s")
	t.Setenv("FORGE_ENVDEFAULT_BAD", "seven")
	if got := String("FORGE_ENVDEFAULT_S", "d"); got != "x" {
		t.Errorf("String = %q", got)
	}
	if got := String("FORGE_ENVDEFAULT_UNSET", "d"); got != "d" {
		t.Errorf("String unset = %q", got)
	}
	if got := Int("FORGE_ENVDEFAULT_I", 1); got != 7 {
		t.Errorf("Int = %d", got)
	}
	if got := Int("FORGE_ENVDEFAULT_BAD", 1); got != 1 {
		t.Errorf("Int of a bad value = %d, want the default", got)
	}
	if got := Duration("FORGE_ENVDEFAULT_D", time.Second); got != 90*time.Second {
		t.Errorf("Duration = %s", got)
	}
	if got := Duration("FORGE_ENVDEFAULT_BAD", time.Second); got != time.Second {
		t.Errorf("Duration of a bad value = %s, want the default", got)
	}
}
