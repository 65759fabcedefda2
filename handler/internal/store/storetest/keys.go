package storetest

import (
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// keys are IDs a backend must take as they are. Table Storage forbids / \ # ?
// and control characters in keys and limits them to 1 KiB
// (docs/architecture.md §7.3), and client IDs may be URLs (client ID metadata
// documents).
var keys = []string{
	"plain",
	"with/slash",
	`back\slash`,
	"hash#tag",
	"question?mark",
	"https://client.example/oauth/metadata.json?v=1#frag",
	"quote'd",
	"percent%2Fencoded",
	"space and\ttab",
	"ctl\x01\x1f\x7f\u0085",
	"ünïcødé-键-🔑",
	strings.Repeat("long/", 300), // 1500 bytes
}

func testKeys(t *testing.T, s store.Store, _ *clock) {
	// Write everything first, so keys that a backend maps to the same row
	// would overwrite each other and fail the reads below.
	for _, k := range keys {
		must(t, "CreateClient", s.CreateClient(ctx(t), fullClient(k)))
		must(t, "PutAuthRequest", s.PutAuthRequest(ctx(t), fullAuthRequest(k)))
		must(t, "PutConsent", s.PutConsent(ctx(t), fullConsent(k)))
		must(t, "PutCode", s.PutCode(ctx(t), fullCode(k)))
		g := fullGrant(k)
		g.Upstream = []byte(k)
		must(t, "CreateGrant", s.CreateGrant(ctx(t), g))
		must(t, "PutRefresh", s.PutRefresh(ctx(t), fullRefresh(k, k)))
	}
	for _, k := range keys {
		cl, err := s.GetClient(ctx(t), k)
		wantErr(t, "GetClient", err, nil)
		diff(t, "GetClient("+k+")", cl, fullClient(k))
		a, err := s.GetAuthRequest(ctx(t), k)
		wantErr(t, "GetAuthRequest", err, nil)
		diff(t, "GetAuthRequest("+k+")", a, fullAuthRequest(k))
		co, err := s.GetConsent(ctx(t), k)
		wantErr(t, "GetConsent", err, nil)
		diff(t, "GetConsent("+k+")", co, fullConsent(k))
		cd, err := s.TakeCode(ctx(t), k)
		wantErr(t, "TakeCode", err, nil)
		diff(t, "TakeCode("+k+")", cd, fullCode(k))
		g, err := s.GetGrant(ctx(t), k)
		wantErr(t, "GetGrant", err, nil)
		want := fullGrant(k)
		want.Upstream = []byte(k)
		diff(t, "GetGrant("+k+")", g, want)
		r, err := s.GetRefresh(ctx(t), k, k)
		wantErr(t, "GetRefresh", err, nil)
		diff(t, "GetRefresh("+k+")", r, fullRefresh(k, k))
	}
	// DeleteGrant finds a family by GrantID, which can be any string too.
	for _, k := range keys {
		must(t, "DeleteGrant", s.DeleteGrant(ctx(t), k))
		_, err := s.GetRefresh(ctx(t), k, k)
		wantErr(t, "GetRefresh(after DeleteGrant("+k+"))", err, store.ErrNotFound)
	}
}

// testCopies: records are values; slices must not be shared with the store.
func testCopies(t *testing.T, s store.Store, _ *clock) {
	c := fullClient("copied")
	must(t, "CreateClient", s.CreateClient(ctx(t), c))
	c.RedirectURIs[0] = "https://evil.example/in"
	got, err := s.GetClient(ctx(t), "copied")
	must(t, "GetClient", err)
	got.RedirectURIs[0] = "https://evil.example/out"
	got, err = s.GetClient(ctx(t), "copied")
	must(t, "GetClient", err)
	diff(t, "GetClient", got, fullClient("copied"))

	g := fullGrant("copied")
	must(t, "CreateGrant", s.CreateGrant(ctx(t), g))
	g.Upstream[0]++
	got2, err := s.GetGrant(ctx(t), "copied")
	must(t, "GetGrant", err)
	got2.Upstream[0]++
	up := got2
	must(t, "UpdateGrant", s.UpdateGrant(ctx(t), up))
	up.Upstream[1]++ // after the update: must not reach the stored record
	got2, err = s.GetGrant(ctx(t), "copied")
	must(t, "GetGrant", err)
	want := fullGrant("copied")
	want.Upstream[0]++
	diff(t, "GetGrant", got2, want)

	r := rotated(fullRefresh("copied", "copied"), t0)
	must(t, "PutRefresh", s.PutRefresh(ctx(t), r))
	r.Successor[0]++
	got3, err := s.GetRefresh(ctx(t), "copied", "copied")
	must(t, "GetRefresh", err)
	got3.Successor[1]++
	must(t, "UpdateRefresh", s.UpdateRefresh(ctx(t), got3))
	got3.Successor[2]++ // after the update: must not reach the stored record
	got3, err = s.GetRefresh(ctx(t), "copied", "copied")
	must(t, "GetRefresh", err)
	wantR := rotated(fullRefresh("copied", "copied"), t0)
	wantR.Successor[1]++
	diff(t, "GetRefresh", got3, wantR)
}
