package entraemu

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// graphMailScopes are the delegated permissions that allow listing the
// signed-in user's messages (Graph "List messages": Mail.ReadBasic least
// privileged, then Mail.Read and Mail.ReadWrite).
var graphMailScopes = []string{"Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"}

// messageProps are the message properties the emulator serves, in the order
// Graph lists them.
var messageProps = []string{"id", "receivedDateTime", "subject", "bodyPreview", "isRead", "from"}

// handleMessages serves Graph GET /v1.0/me/messages with the user's fixture
// mailbox: $top (1 to 1000, default 10), $skip, $select and $orderby on
// receivedDateTime, an @odata.nextLink when more remain. Any other query
// option is refused: the emulator does not model it, and passing it over
// silently would let code depend on behaviour Graph does not have.
// See https://learn.microsoft.com/graph/api/user-list-messages.
func (e *Emulator) handleMessages(w http.ResponseWriter, r *http.Request) {
	claims, ok := e.graphBearer(w, r)
	if !ok {
		return
	}
	if !hasAnyScope(stringClaim(claims, "scp"), graphMailScopes) {
		// What Exchange Online answers through Graph without a mail permission.
		e.graphError(w, r, http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		return
	}
	u, ok := e.User(stringClaim(claims, "oid"))
	if !ok {
		e.graphError(w, r, http.StatusNotFound, "ErrorInvalidUser", "The requested user '"+stringClaim(claims, "oid")+"' is invalid.")
		return
	}
	q, err := parseMessageQuery(r.URL.Query())
	if err != nil {
		e.graphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	msgs := slices.Clone(u.Messages)
	slices.SortStableFunc(msgs, func(a, b Message) int {
		if q.asc {
			return a.Received.Compare(b.Received)
		}
		return b.Received.Compare(a.Received)
	})
	page := msgs[min(q.skip, len(msgs)):min(q.skip+q.top, len(msgs))]
	values := make([]map[string]any, 0, len(page))
	for _, m := range page {
		values = append(values, messageJSON(m, q.selected))
	}
	body := map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('" + u.OID + "')/messages",
		"value":          values,
	}
	if q.skip+q.top < len(msgs) {
		next := r.URL.Query()
		next.Set("$skip", strconv.Itoa(q.skip+q.top))
		next.Set("$top", strconv.Itoa(q.top))
		body["@odata.nextLink"] = e.baseURL(r) + "/v1.0/me/messages?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, body)
}

type messageQuery struct {
	top, skip int
	asc       bool
	selected  []string
}

func parseMessageQuery(v url.Values) (messageQuery, error) {
	q := messageQuery{top: 10, selected: messageProps}
	for k := range v {
		switch k {
		case "$top", "$skip", "$select", "$orderby":
		default:
			return q, fmt.Errorf("the Entra emulator does not model the query option '%s' on /me/messages", k)
		}
	}
	var err error
	if s := v.Get("$top"); s != "" {
		if q.top, err = strconv.Atoi(s); err != nil || q.top < 1 || q.top > 1000 {
			return q, fmt.Errorf("invalid $top value '%s': the page size must be between 1 and 1000", s)
		}
	}
	if s := v.Get("$skip"); s != "" {
		if q.skip, err = strconv.Atoi(s); err != nil || q.skip < 0 {
			return q, fmt.Errorf("invalid $skip value '%s'", s)
		}
	}
	if s := v.Get("$select"); s != "" {
		q.selected = nil
		for _, p := range strings.Split(s, ",") {
			p = strings.TrimSpace(p)
			if !slices.Contains(messageProps, p) {
				//lint:ignore ST1005 Graph's own message, word for word
				return q, fmt.Errorf("Could not find a property named '%s' on type 'microsoft.graph.message'.", p)
			}
			q.selected = append(q.selected, p)
		}
	}
	switch strings.Join(strings.Fields(v.Get("$orderby")), " ") {
	case "", "receivedDateTime desc":
	case "receivedDateTime", "receivedDateTime asc":
		q.asc = true
	default:
		return q, fmt.Errorf("the Entra emulator sorts /me/messages by receivedDateTime only; got $orderby '%s'", v.Get("$orderby"))
	}
	return q, nil
}

// messageJSON renders m with the selected properties, as Graph does:
// recipients as {"emailAddress":{"name","address"}}, times in UTC with a Z.
func messageJSON(m Message, selected []string) map[string]any {
	// Graph returns id whether or not $select names it.
	out := map[string]any{"@odata.etag": `W/"` + m.ID + `"`, "id": m.ID}
	for _, p := range selected {
		switch p {
		case "receivedDateTime":
			out[p] = m.Received.UTC().Format(time.RFC3339)
		case "subject":
			out[p] = m.Subject
		case "bodyPreview":
			out[p] = m.BodyPreview
		case "isRead":
			out[p] = m.IsRead
		case "from":
			out[p] = map[string]any{"emailAddress": map[string]string{"name": m.FromName, "address": m.FromAddress}}
		}
	}
	return out
}

func hasAnyScope(scp string, allowed []string) bool {
	return slices.ContainsFunc(strings.Fields(scp), func(s string) bool {
		return slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, s) })
	})
}
