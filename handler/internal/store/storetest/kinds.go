package storetest

import (
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

func testClient(t *testing.T, s store.Store, _ *clock) {
	for _, want := range []store.Client{
		fullClient("https://app.example/.well-known/client.json"),
		{ID: "minimal"}, // every zero value must come back zero
	} {
		must(t, "CreateClient", s.CreateClient(ctx(t), want))
		got, err := s.GetClient(ctx(t), want.ID)
		must(t, "GetClient", err)
		diff(t, "GetClient", got, want)
		wantErr(t, "CreateClient(same ID)", s.CreateClient(ctx(t), fullClient(want.ID)), store.ErrAlreadyExists)
	}
	_, err := s.GetClient(ctx(t), "missing")
	wantErr(t, "GetClient(missing)", err, store.ErrNotFound)
}

func testAuthRequest(t *testing.T, s store.Store, _ *clock) {
	want := fullAuthRequest("state-1")
	must(t, "PutAuthRequest", s.PutAuthRequest(ctx(t), want))
	got, err := s.GetAuthRequest(ctx(t), want.ID)
	must(t, "GetAuthRequest", err)
	diff(t, "GetAuthRequest", got, want)

	// Put replaces: /consent stores the request again with Approved set.
	want.Approved = false
	want.Scope = "other"
	must(t, "PutAuthRequest(replace)", s.PutAuthRequest(ctx(t), want))
	got, err = s.TakeAuthRequest(ctx(t), want.ID)
	must(t, "TakeAuthRequest", err)
	diff(t, "TakeAuthRequest", got, want)

	_, err = s.TakeAuthRequest(ctx(t), want.ID)
	wantErr(t, "TakeAuthRequest(again)", err, store.ErrNotFound)
	_, err = s.GetAuthRequest(ctx(t), want.ID)
	wantErr(t, "GetAuthRequest(after take)", err, store.ErrNotFound)
	_, err = s.TakeAuthRequest(ctx(t), "missing")
	wantErr(t, "TakeAuthRequest(missing)", err, store.ErrNotFound)
}

func testConsent(t *testing.T, s store.Store, _ *clock) {
	want := fullConsent("consent-1")
	must(t, "PutConsent", s.PutConsent(ctx(t), want))
	got, err := s.GetConsent(ctx(t), want.Key)
	must(t, "GetConsent", err)
	diff(t, "GetConsent", got, want)

	want.Scope = "mcp:tools mcp:resources"
	want.ExpiresAt = want.ExpiresAt.Add(time.Hour)
	must(t, "PutConsent(replace)", s.PutConsent(ctx(t), want))
	got, err = s.GetConsent(ctx(t), want.Key)
	must(t, "GetConsent", err)
	diff(t, "GetConsent(after replace)", got, want)

	_, err = s.GetConsent(ctx(t), "missing")
	wantErr(t, "GetConsent(missing)", err, store.ErrNotFound)
}

func testCode(t *testing.T, s store.Store, c *clock) {
	want := fullCode("code-hash-1")
	must(t, "PutCode", s.PutCode(ctx(t), want))
	got, err := s.TakeCode(ctx(t), want.Hash)
	must(t, "TakeCode", err)
	diff(t, "TakeCode", got, want)

	// A redeemed code is remembered until it expires, so a replay is
	// recognised and its grant can be revoked (RFC 6749 §4.1.2).
	c.Advance(time.Second)
	replayed, err := s.TakeCode(ctx(t), want.Hash)
	wantErr(t, "TakeCode(again)", err, store.ErrRedeemed)
	redeemed := want
	redeemed.RedeemedAt = t0
	diff(t, "TakeCode(again)", replayed, redeemed)
	c.Set(want.ExpiresAt.Add(time.Second))
	_, err = s.TakeCode(ctx(t), want.Hash)
	wantErr(t, "TakeCode(again, after expiry)", err, store.ErrNotFound)
	_, err = s.TakeCode(ctx(t), "missing")
	wantErr(t, "TakeCode(missing)", err, store.ErrNotFound)
}

// testConcurrentTake is the single-use guarantee of docs/architecture.md §6.3
// and §7.2: a code replayed in parallel (or two instances racing) is redeemed
// exactly once, and the other callers learn that it was redeemed.
func testConcurrentTake(t *testing.T, s store.Store, _ *clock) {
	const n = 20
	tests := []struct {
		name  string
		put   func() error
		take  func() error
		loser error // what every other caller gets
	}{{
		name:  "TakeCode",
		put:   func() error { return s.PutCode(ctx(t), fullCode("raced-code")) },
		take:  func() error { _, err := s.TakeCode(ctx(t), "raced-code"); return err },
		loser: store.ErrRedeemed,
	}, {
		name:  "TakeAuthRequest",
		put:   func() error { return s.PutAuthRequest(ctx(t), fullAuthRequest("raced-state")) },
		take:  func() error { _, err := s.TakeAuthRequest(ctx(t), "raced-state"); return err },
		loser: store.ErrNotFound,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			must(t, "put", tt.put())
			errs := race(n, func(int) error { return tt.take() })
			oneWinner(t, tt.name, errs, tt.loser)
		})
	}
}
