package aztable

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// TestRowKey checks the key mapping without a Table service: every RowKey is
// legal (at most 1 KiB, none of / \ # ? or control characters:
// learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model)
// and distinct keys get distinct RowKeys.
func TestRowKey(t *testing.T) {
	keys := []string{
		"", "plain", "Plain-key_1.0", "with/slash", `back\slash`, "hash#", "q?",
		"https://client.example/metadata.json", "quote'd", "ctl\x01\x7f\u0085",
		"ünïcødé-🔑", strings.Repeat("a", maxPlainKey), strings.Repeat("a", maxPlainKey+1),
		strings.Repeat("long/", 400),
		"~" + strings.Repeat("A", 43), // looks like a hashed key, must not be taken as one
	}
	seen := map[string]string{}
	for _, k := range keys {
		rk := rowKey(k)
		if len(rk) == 0 || len(rk) > 1024 || !utf8.ValidString(rk) {
			t.Errorf("rowKey(%q) = %q: empty or too long", k, rk)
		}
		for _, r := range rk {
			if strings.ContainsRune(`/\#?'`, r) || r < 0x20 || r >= 0x7f {
				t.Errorf("rowKey(%q) = %q: has %q", k, rk, r)
			}
		}
		if prev, ok := seen[rk]; ok {
			t.Errorf("rowKey(%q) = rowKey(%q) = %q", k, prev, rk)
		}
		seen[rk] = k
	}
}

func TestExpandConnectionString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"UseDevelopmentStorage=true", azuriteConnectionString},
		{" UseDevelopmentStorage = true ;", azuriteConnectionString},
		{"AccountName=a; AccountKey=k==;;TableEndpoint=http://x/a;", "AccountName=a;AccountKey=k==;TableEndpoint=http://x/a"},
	}
	for _, tt := range tests {
		if got := expandConnectionString(tt.in); got != tt.want {
			t.Errorf("expandConnectionString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLimits: values Table Storage would refuse are refused before any
// request with ErrTooLarge, which handlers answer as a bad request.
func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		g    store.Grant
	}{
		{"Upstream over 64 KiB", store.Grant{ID: "g", Upstream: make([]byte, maxBinary+1)}},
		{"string over 32K UTF-16 units", store.Grant{ID: "g", Scope: strings.Repeat("é", maxStringUnits+1)}},
	}
	for _, tt := range tests {
		if _, err := encodeGrant(tt.g); !errors.Is(err, store.ErrTooLarge) {
			t.Errorf("%s: encodeGrant = %v, want ErrTooLarge", tt.name, err)
		}
	}
	if _, err := encodeGrant(store.Grant{ID: "g", Upstream: make([]byte, maxBinary)}); err != nil {
		t.Errorf("encodeGrant(64 KiB upstream) = %v", err)
	}
}
