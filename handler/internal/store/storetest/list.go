package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// testListGrants: the connected-apps page lists a user's grants, the
// grants command a client's or all; deleted and expired grants are gone
// from every listing, and one user's or client's key that is a prefix of
// another's does not pull in the other's grants.
func testListGrants(t *testing.T, s store.Store, c *clock) {
	const cimd = "https://app.example/.well-known/client.json"
	grant := func(id, sub, client string) store.Grant {
		g := fullGrant(id)
		g.Subject, g.ClientID = sub, client
		return g
	}
	g1, g2, g3 := grant("g1", "user-1", "client-1"), grant("g2", "user-1", cimd), grant("g3", "user-10", "client-1")
	expired := grant("g4", "user-1", "client-1")
	expired.ExpiresAt = c.Now().Add(-time.Second)
	for _, g := range []store.Grant{g1, g2, g3, expired} {
		must(t, "CreateGrant", s.CreateGrant(ctx(t), g))
	}
	listed := func(q store.GrantQuery) []store.Grant {
		t.Helper()
		got, err := s.ListGrants(ctx(t), q)
		must(t, "ListGrants", err)
		for _, g := range got {
			if g.Upstream != nil {
				t.Errorf("ListGrants(%+v) returned %s with its sealed Entra tokens", q, g.ID)
			}
		}
		slices.SortFunc(got, func(a, b store.Grant) int { return strings.Compare(a.ID, b.ID) })
		return got
	}
	bare := func(gs ...store.Grant) []store.Grant {
		for i := range gs {
			gs[i].Upstream = nil
		}
		return gs
	}
	diff(t, "ListGrants(user-1)", listed(store.GrantQuery{Subject: "user-1"}), bare(g1, g2))
	diff(t, "ListGrants(client-1)", listed(store.GrantQuery{ClientID: "client-1"}), bare(g1, g3))
	diff(t, "ListGrants(metadata document client)", listed(store.GrantQuery{ClientID: cimd}), bare(g2))
	diff(t, "ListGrants(user-1, client-1)", listed(store.GrantQuery{Subject: "user-1", ClientID: "client-1"}), bare(g1))
	diff(t, "ListGrants(all)", listed(store.GrantQuery{}), bare(g1, g2, g3))
	diff(t, "ListGrants(nobody)", listed(store.GrantQuery{Subject: "user-2"}), []store.Grant(nil))

	got, err := s.GetGrant(ctx(t), "g2")
	must(t, "GetGrant", err)
	got.LastUsedAt = c.Now().Add(time.Hour)
	must(t, "UpdateGrant", s.UpdateGrant(ctx(t), got))
	g2.LastUsedAt = got.LastUsedAt

	must(t, "DeleteGrant", s.DeleteGrant(ctx(t), "g1"))
	diff(t, "ListGrants(user-1) after DeleteGrant", listed(store.GrantQuery{Subject: "user-1"}), bare(g2))
	diff(t, "ListGrants(client-1) after DeleteGrant", listed(store.GrantQuery{ClientID: "client-1"}), bare(g3))
}

func testClientBlock(t *testing.T, s store.Store, c *clock) {
	const id = "https://app.example/.well-known/client.json"
	_, err := s.GetClientBlock(ctx(t), id)
	wantErr(t, "GetClientBlock(none)", err, store.ErrNotFound)
	want := store.ClientBlock{ClientID: id, Reason: "phishing", CreatedAt: c.Now()}
	must(t, "PutClientBlock", s.PutClientBlock(ctx(t), want))
	got, err := s.GetClientBlock(ctx(t), id)
	must(t, "GetClientBlock", err)
	diff(t, "GetClientBlock", got, want)
	_, err = s.GetClientBlock(ctx(t), "client-1")
	wantErr(t, "GetClientBlock(another client)", err, store.ErrNotFound)

	c.Advance(10 * 365 * 24 * time.Hour) // a block never expires
	want.Reason = ""
	must(t, "PutClientBlock(replace)", s.PutClientBlock(ctx(t), want))
	got, err = s.GetClientBlock(ctx(t), id)
	must(t, "GetClientBlock(after replace)", err)
	diff(t, "GetClientBlock(after replace)", got, want)

	must(t, "DeleteClientBlock", s.DeleteClientBlock(ctx(t), id))
	_, err = s.GetClientBlock(ctx(t), id)
	wantErr(t, "GetClientBlock(lifted)", err, store.ErrNotFound)
	must(t, "DeleteClientBlock(again)", s.DeleteClientBlock(ctx(t), id))
}
