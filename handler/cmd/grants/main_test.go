package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/memory"
)

const cimd = "https://app.example/client.json"

// seed stores three grants: Adele with two clients, Alex with one.
func seed(t *testing.T, st store.Store) map[string]store.Grant {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	gs := map[string]store.Grant{
		"adele-a": {ID: "grant-adele-a-" + fmt.Sprint(now.UnixNano()), Subject: "oid-adele", Username: "adele@contoso.example", ClientID: "client-a"},
		"adele-b": {ID: "grant-adele-b-" + fmt.Sprint(now.UnixNano()), Subject: "oid-adele", Username: "adele@contoso.example", ClientID: cimd},
		"alex-a":  {ID: "grant-alex-a-" + fmt.Sprint(now.UnixNano()), Subject: "oid-alex", Username: "alex@contoso.example", ClientID: "client-a"},
	}
	for k, g := range gs {
		g.Scope, g.CreatedAt, g.LastUsedAt, g.ExpiresAt = "mcp:tools offline_access", now, now, now.Add(time.Hour)
		g.Upstream = []byte("sealed")
		gs[k] = g
		if err := st.CreateGrant(t.Context(), g); err != nil {
			t.Fatal(err)
		}
	}
	return gs
}

// cmd runs the command against st and returns its exit status, stdout and
// stderr.
func cmd(t *testing.T, st store.Store, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	open := func(func(string) string) (store.Store, error) { return st, nil }
	code := run(t.Context(), args, func(string) string { return "" }, open, &out, &errOut)
	return code, out.String(), errOut.String()
}

func remaining(t *testing.T, st store.Store) []string {
	t.Helper()
	gs, err := st.ListGrants(t.Context(), store.GrantQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var subs []string
	for _, g := range gs {
		subs = append(subs, g.Subject+"/"+g.ClientID)
	}
	return subs
}

func TestList(t *testing.T) {
	st := memory.New()
	gs := seed(t, st)
	code, out, _ := cmd(t, st, "list", "-user", "oid-adele")
	if code != 0 || !strings.Contains(out, audit.GrantRef(gs["adele-a"].ID)) || !strings.Contains(out, cimd) ||
		strings.Contains(out, "oid-alex") || !strings.Contains(out, "2 grants") {
		t.Errorf("list -user: %d\n%s", code, out)
	}
	code, out, _ = cmd(t, st, "list", "-client", "client-a", "-json")
	var subs []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r listed
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("list -json line %q: %v", sc.Text(), err)
		}
		subs = append(subs, r.Subject)
	}
	if code != 0 || len(subs) != 2 {
		t.Errorf("list -client -json: %d %q", code, subs)
	}
	_, out, _ = cmd(t, st, "list")
	for _, g := range gs {
		if strings.Contains(out, g.ID) {
			t.Errorf("list prints the grant id %s:\n%s", g.ID, out)
		}
	}
	if !strings.Contains(out, "3 grants") {
		t.Errorf("list:\n%s", out)
	}
}

func TestRevoke(t *testing.T) {
	t.Run("by user", func(t *testing.T) {
		st := memory.New()
		seed(t, st)
		code, out, errOut := cmd(t, st, "revoke", "-user", "oid-adele")
		if code != 0 || !strings.Contains(out, "revoked 2 grants") {
			t.Fatalf("revoke -user: %d %s %s", code, out, errOut)
		}
		if got := remaining(t, st); len(got) != 1 || got[0] != "oid-alex/client-a" {
			t.Errorf("left: %q", got)
		}
		if n := strings.Count(errOut, `"event":"grant.revoked","by":"operator"`); n != 2 {
			t.Errorf("%d grant.revoked audit events, want 2:\n%s", n, errOut)
		}
	})
	t.Run("by client blocks it", func(t *testing.T) {
		st := memory.New()
		seed(t, st)
		code, out, errOut := cmd(t, st, "revoke", "-client", "client-a", "-reason", "phishing")
		if code != 0 || !strings.Contains(out, "revoked 2 grants") || !strings.Contains(out, "blocked") {
			t.Fatalf("revoke -client: %d %s %s", code, out, errOut)
		}
		if got := remaining(t, st); len(got) != 1 || got[0] != "oid-adele/"+cimd {
			t.Errorf("left: %q", got)
		}
		b, err := st.GetClientBlock(t.Context(), "client-a")
		if err != nil || b.Reason != "phishing" {
			t.Errorf("block: %+v %v", b, err)
		}
		if !strings.Contains(errOut, `"event":"client.blocked","client_id":"client-a","grants_revoked":2`) {
			t.Errorf("no client.blocked audit event:\n%s", errOut)
		}
		if code, _, _ := cmd(t, st, "unblock", "-client", "client-a"); code != 0 {
			t.Fatalf("unblock: %d", code)
		}
		if _, err := st.GetClientBlock(t.Context(), "client-a"); err == nil {
			t.Error("still blocked after unblock")
		}
	})
	t.Run("all", func(t *testing.T) {
		st := memory.New()
		seed(t, st)
		if code, _, errOut := cmd(t, st, "revoke", "-all"); code != 2 || !strings.Contains(errOut, "-yes") {
			t.Fatalf("revoke -all without -yes: %d %s", code, errOut)
		}
		if code, out, _ := cmd(t, st, "revoke", "-all", "-yes"); code != 0 || !strings.Contains(out, "revoked 3 grants") {
			t.Fatalf("revoke -all -yes: %d %s", code, out)
		}
		if got := remaining(t, st); len(got) != 0 {
			t.Errorf("left: %q", got)
		}
	})
}

func TestUsage(t *testing.T) {
	st := memory.New()
	for _, args := range [][]string{
		{}, {"frobnicate"}, {"revoke"}, {"revoke", "-user", "u", "-client", "c"}, {"revoke", "-all", "-user", "u", "-yes"},
		{"unblock"}, {"list", "extra"},
	} {
		if code, _, _ := cmd(t, st, args...); code != 2 {
			t.Errorf("grants %q = %d, want 2", args, code)
		}
	}
	var errOut strings.Builder
	code := run(t.Context(), []string{"list"}, func(string) string { return "" }, openStore, &strings.Builder{}, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "STORAGE_CONNECTION_STRING") {
		t.Errorf("no storage configured: %d %s", code, errOut.String())
	}
}

// TestAgainstAzurite runs the command as operators do, with the app's
// storage settings, against Azurite (when the test command started it).
func TestAgainstAzurite(t *testing.T) {
	conn := os.Getenv("AZURE_TABLES_TEST_CONNECTION")
	if conn == "" {
		t.Skip("AZURE_TABLES_TEST_CONNECTION not set (scripts/test.sh starts Azurite)")
	}
	env := map[string]string{"STORAGE_CONNECTION_STRING": conn, "STORAGE_TABLE_NAME": fmt.Sprintf("grantscmd%d", time.Now().UnixNano()%1e9)}
	st, err := openStore(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	gs := seed(t, st)
	exec := func(args ...string) (int, string) {
		var out, errOut strings.Builder
		code := run(t.Context(), args, func(k string) string { return env[k] }, openStore, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := exec("list", "-client", cimd); code != 0 || !strings.Contains(out, audit.GrantRef(gs["adele-b"].ID)) || !strings.Contains(out, "1 grants") {
		t.Errorf("list -client: %d\n%s", code, out)
	}
	if code, out := exec("revoke", "-client", "client-a"); code != 0 || !strings.Contains(out, "revoked 2 grants") {
		t.Fatalf("revoke -client: %d\n%s", code, out)
	}
	if got := remaining(t, st); len(got) != 1 {
		t.Errorf("left: %q", got)
	}
	if _, err := st.GetClientBlock(t.Context(), "client-a"); err != nil {
		t.Errorf("block: %v", err)
	}
}
