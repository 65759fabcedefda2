package config

import (
	"slices"
	"strings"
	"testing"
)

// TestAllowedOrigins: ALLOWED_ORIGINS is empty by default, separated by
// commas or spaces (Bicep writes ",a,b,"), and each origin must be written
// as browsers send it, since API Management compares the list verbatim.
func TestAllowedOrigins(t *testing.T) {
	tests := []struct {
		value   string
		want    []string
		problem string // in the error; "" means valid
	}{
		{"", nil, ""},
		{",,", nil, ""},
		{"http://localhost:6274", []string{"http://localhost:6274"}, ""},
		{",http://localhost:6274,https://app.example,", []string{"http://localhost:6274", "https://app.example"}, ""},
		{"http://localhost:6274 https://[::1]:8443", []string{"http://localhost:6274", "https://[::1]:8443"}, ""},
		{"http://localhost:6274/", nil, `write it as browsers send it, http://localhost:6274`},
		{"HTTPS://App.Example", nil, "write it as browsers send it, https://app.example"},
		{"https://app.example:443", nil, "write it as browsers send it, https://app.example"},
		{"https://app.example/path", nil, "no path"},
		{"app.example", nil, "not an origin"},
		{"*", nil, "would let any page"},
		{"null", nil, "would let any page"},
	}
	for _, tt := range tests {
		c, err := Load(env(localEnv(map[string]string{EnvAllowedOrigins: tt.value})))
		switch {
		case tt.problem == "" && err != nil:
			t.Errorf("%q: %v", tt.value, err)
		case tt.problem == "" && !slices.Equal(c.AllowedOrigins, tt.want):
			t.Errorf("%q: %q, want %q", tt.value, c.AllowedOrigins, tt.want)
		case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), EnvAllowedOrigins) || !strings.Contains(err.Error(), tt.problem)):
			t.Errorf("%q: error %v, want one naming %s and saying %q", tt.value, err, EnvAllowedOrigins, tt.problem)
		}
	}
}
