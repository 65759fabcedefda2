package graph

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// MaxMessages bounds RecentMessages: Graph pages /me/messages by at most
// 1000, but a tool's answer goes into a model's context, where a few dozen
// subjects are already plenty.
const MaxMessages = 50

// Message is the subset of the Graph message resource the recent_mail tool
// shows.
type Message struct {
	Subject          string    `json:"subject"`
	From             Recipient `json:"from"`
	ReceivedDateTime time.Time `json:"receivedDateTime"`
}

// Recipient is Graph's recipient: {"emailAddress": {"name", "address"}}.
type Recipient struct {
	EmailAddress struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	} `json:"emailAddress"`
}

// RecentMessages returns the signed-in user's n newest messages, newest
// first: GET /me/messages with $top, $select and $orderby
// (https://learn.microsoft.com/graph/api/user-list-messages; delegated
// Mail.ReadBasic, Mail.Read or Mail.ReadWrite).
func (c *Client) RecentMessages(ctx context.Context, token string, n int) ([]Message, error) {
	if n < 1 || n > MaxMessages {
		return nil, fmt.Errorf("graph: %d messages asked for, want 1 to %d", n, MaxMessages)
	}
	q := url.Values{
		"$top":     {strconv.Itoa(n)},
		"$select":  {"subject,from,receivedDateTime"},
		"$orderby": {"receivedDateTime desc"},
	}
	var page struct {
		Value []Message `json:"value"`
	}
	if err := c.get(ctx, token, "/v1.0/me/messages?"+q.Encode(), &page); err != nil {
		return nil, err
	}
	if len(page.Value) > n {
		page.Value = page.Value[:n]
	}
	return page.Value, nil
}
