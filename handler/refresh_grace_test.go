package main

import (
	"sync"
	"testing"
	"time"
)

// Parallel refreshes from one client within the grace window all succeed
// (claude.ai refreshes from several processes at once), and all get the
// successor the first one was issued: the family never forks, so a thief
// replaying a rotated token inside the window ends up on the user's chain,
// where the next reuse is detected (issue 8 item 5).
func TestRefreshWithinGraceWindow(t *testing.T) {
	ts := newTestServer(t, nil)
	c, code := signedIn(t, ts)
	first := c.redeem(t, ts.stack, code)

	const n = 8
	got := make([]tokenResp, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i] = c.refresh(t, ts.stack, first.RefreshToken) })
	}
	wg.Wait()
	ts.clock.Advance(30 * time.Second)
	late := c.refresh(t, ts.stack, first.RefreshToken)
	for i, r := range append(got, late) {
		if r.Status != 200 || r.RefreshToken != got[0].RefreshToken || r.RefreshToken == first.RefreshToken {
			t.Fatalf("refresh %d within the grace window: status %d, same successor as the first: %v", i, r.Status, r.RefreshToken == got[0].RefreshToken)
		}
		if code := mcpStatus(t, ts.stack, r.AccessToken); code != 200 {
			t.Fatalf("/mcp with access token %d = %d", i, code)
		}
	}

	// The successor is the family's one head: it rotates once more, and
	// the original, replayed after the window, revokes the family.
	next := c.refresh(t, ts.stack, late.RefreshToken)
	if next.Status != 200 || next.RefreshToken == late.RefreshToken {
		t.Fatalf("refresh with the successor: %+v", next)
	}
	ts.clock.Advance(2 * time.Minute)
	if r := c.refresh(t, ts.stack, first.RefreshToken); r.Error != "invalid_grant" {
		t.Fatalf("reuse after the window: %+v", r)
	}
	if code := mcpStatus(t, ts.stack, next.AccessToken); code != 401 {
		t.Fatalf("/mcp with the family's newest access token after the reuse = %d, want 401", code)
	}
}
