package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

func testGrant(t *testing.T, s store.Store, _ *clock) {
	for _, want := range []store.Grant{fullGrant("grant-1"), {ID: "minimal"}} {
		must(t, "CreateGrant", s.CreateGrant(ctx(t), want))
		got, err := s.GetGrant(ctx(t), want.ID)
		must(t, "GetGrant", err)
		diff(t, "GetGrant", got, want)
		if got.ETag == "" {
			t.Errorf("GetGrant(%q).ETag is empty", want.ID)
		}
		wantErr(t, "CreateGrant(same ID)", s.CreateGrant(ctx(t), fullGrant(want.ID)), store.ErrAlreadyExists)
	}

	g, err := s.GetGrant(ctx(t), "grant-1")
	must(t, "GetGrant", err)
	stale := g
	g.Upstream = []byte("resealed")
	g.Scope = "mcp:tools"
	must(t, "UpdateGrant", s.UpdateGrant(ctx(t), g))
	got, err := s.GetGrant(ctx(t), g.ID)
	must(t, "GetGrant(after update)", err)
	diff(t, "GetGrant(after update)", got, g)
	if got.ETag == stale.ETag {
		t.Errorf("ETag did not change on update: %q", got.ETag)
	}

	wantErr(t, "UpdateGrant(stale ETag)", s.UpdateGrant(ctx(t), stale), store.ErrConflict)
	noETag := got
	noETag.ETag = ""
	wantErr(t, "UpdateGrant(empty ETag)", s.UpdateGrant(ctx(t), noETag), store.ErrConflict)
	missing := got
	missing.ID = "missing"
	wantErr(t, "UpdateGrant(missing)", s.UpdateGrant(ctx(t), missing), store.ErrNotFound)
	_, err = s.GetGrant(ctx(t), "missing")
	wantErr(t, "GetGrant(missing)", err, store.ErrNotFound)
}

func testRefresh(t *testing.T, s store.Store, c *clock) {
	want := fullRefresh("refresh-hash-1", "grant-1")
	must(t, "PutRefresh", s.PutRefresh(ctx(t), want))
	r, err := s.GetRefresh(ctx(t), want.GrantID, want.Hash)
	must(t, "GetRefresh", err)
	diff(t, "GetRefresh", r, want)
	if r.ETag == "" {
		t.Error("GetRefresh().ETag is empty")
	}
	// A token is found only under its own grant.
	_, err = s.GetRefresh(ctx(t), "grant-2", want.Hash)
	wantErr(t, "GetRefresh(other grant)", err, store.ErrNotFound)
	wantErr(t, "DeleteRefresh(other grant)", s.DeleteRefresh(ctx(t), "grant-2", want.Hash), nil)

	stale := r
	r = rotated(r, c.Now())
	must(t, "UpdateRefresh", s.UpdateRefresh(ctx(t), r))
	got, err := s.GetRefresh(ctx(t), r.GrantID, r.Hash)
	must(t, "GetRefresh(after update)", err)
	diff(t, "GetRefresh(after update)", got, r)
	wantErr(t, "UpdateRefresh(stale ETag)", s.UpdateRefresh(ctx(t), stale), store.ErrConflict)

	must(t, "DeleteRefresh", s.DeleteRefresh(ctx(t), r.GrantID, r.Hash))
	_, err = s.GetRefresh(ctx(t), r.GrantID, r.Hash)
	wantErr(t, "GetRefresh(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteRefresh(again)", s.DeleteRefresh(ctx(t), r.GrantID, r.Hash), nil)
	wantErr(t, "UpdateRefresh(deleted)", s.UpdateRefresh(ctx(t), got), store.ErrNotFound)
}

// testConcurrentUpdate: many writers holding one ETag, exactly one wins. This
// is what makes refresh-token rotation happen once (docs/architecture.md
// §6.2).
func testConcurrentUpdate(t *testing.T, s store.Store, _ *clock) {
	const n = 20
	t.Run("UpdateGrant", func(t *testing.T) {
		must(t, "CreateGrant", s.CreateGrant(ctx(t), fullGrant("raced-grant")))
		g, err := s.GetGrant(ctx(t), "raced-grant")
		must(t, "GetGrant", err)
		errs := race(n, func(i int) error {
			g := g
			g.Scope = fmt.Sprint("writer-", i)
			return s.UpdateGrant(ctx(t), g)
		})
		w := oneWinner(t, "UpdateGrant", errs, store.ErrConflict)
		got, err := s.GetGrant(ctx(t), g.ID)
		must(t, "GetGrant", err)
		if want := fmt.Sprint("writer-", w); w >= 0 && got.Scope != want {
			t.Errorf("Scope = %q, want the winner's %q", got.Scope, want)
		}
	})
	t.Run("UpdateRefresh", func(t *testing.T) {
		must(t, "PutRefresh", s.PutRefresh(ctx(t), fullRefresh("raced-refresh", "g")))
		r, err := s.GetRefresh(ctx(t), "g", "raced-refresh")
		must(t, "GetRefresh", err)
		errs := race(n, func(i int) error {
			r := r
			r.RotatedAt = t0.Add(time.Duration(i+1) * time.Second)
			return s.UpdateRefresh(ctx(t), r)
		})
		w := oneWinner(t, "UpdateRefresh", errs, store.ErrConflict)
		got, err := s.GetRefresh(ctx(t), r.GrantID, r.Hash)
		must(t, "GetRefresh", err)
		if want := t0.Add(time.Duration(w+1) * time.Second); w >= 0 && !got.RotatedAt.Equal(want) {
			t.Errorf("RotatedAt = %v, want the winner's %v", got.RotatedAt, want)
		}
	})
}

func testDeleteGrant(t *testing.T, s store.Store, _ *clock) {
	must(t, "CreateGrant", s.CreateGrant(ctx(t), fullGrant("revoked")))
	must(t, "CreateGrant", s.CreateGrant(ctx(t), fullGrant("kept")))
	// Grant IDs with a quote must not break a backend's query for the family.
	must(t, "CreateGrant", s.CreateGrant(ctx(t), fullGrant("it's")))
	for _, r := range []store.RefreshToken{
		fullRefresh("r1", "revoked"), fullRefresh("r2", "revoked"),
		fullRefresh("r3", "kept"), fullRefresh("r4", "it's"),
	} {
		must(t, "PutRefresh", s.PutRefresh(ctx(t), r))
	}

	for _, id := range []string{"revoked", "revoked", "never-existed", "it's"} {
		wantErr(t, "DeleteGrant("+id+")", s.DeleteGrant(ctx(t), id), nil)
	}
	for _, id := range []string{"revoked", "it's"} {
		_, err := s.GetGrant(ctx(t), id)
		wantErr(t, "GetGrant(deleted)", err, store.ErrNotFound)
	}
	for _, r := range [][2]string{{"revoked", "r1"}, {"revoked", "r2"}, {"it's", "r4"}} {
		_, err := s.GetRefresh(ctx(t), r[0], r[1])
		wantErr(t, "GetRefresh("+r[1]+" of deleted grant)", err, store.ErrNotFound)
	}
	if _, err := s.GetGrant(ctx(t), "kept"); err != nil {
		t.Errorf("GetGrant(kept) = %v", err)
	}
	if _, err := s.GetRefresh(ctx(t), "kept", "r3"); err != nil {
		t.Errorf("GetRefresh(r3 of kept grant) = %v", err)
	}
}
