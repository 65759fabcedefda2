package entraemu

import (
	"fmt"
	"time"
)

// mailboxes are the test users' messages, keyed by the UPN's local part.
// Fixed times keep tests and screenshots stable.
var mailboxes = map[string][]struct {
	subject, fromName, fromAddress, preview string
	received                                string
}{
	"AdeleV": {
		{"Quarterly retail review", "Megan Bowen", "MeganB@contoso.example", "The numbers for the quarter are in; can we go through them on Thursday?", "2026-05-04T09:12:00Z"},
		{"Store opening checklist", "Alex Wilber", "AlexW@contoso.example", "Attached is the checklist for the new store.", "2026-05-03T16:40:00Z"},
		{"Re: Holiday staffing", "Nestor Wilke", "NestorW@contoso.example", "Approved. Please share the rota with the team.", "2026-05-02T11:05:00Z"},
		{"Your expense report was approved", "Contoso Expenses", "expenses@contoso.example", "Report ER-1042 was approved and will be paid on the next cycle.", "2026-05-01T07:30:00Z"},
		{"Welcome to Contoso", "Contoso HR", "hr@contoso.example", "We are glad to have you on board.", "2026-04-28T08:00:00Z"},
	},
	"AlexW": {
		{"Campaign assets", "Megan Bowen", "MeganB@contoso.example", "The final banners are in the shared folder.", "2026-05-04T13:20:00Z"},
		{"Store opening checklist", "Adele Vance", "AdeleV@contoso.example", "Thanks, I added two items.", "2026-05-03T17:02:00Z"},
	},
	"MeganB": {
		{"Re: Quarterly retail review", "Adele Vance", "AdeleV@contoso.example", "Thursday works for me.", "2026-05-04T10:01:00Z"},
		{"Budget sign-off", "Nestor Wilke", "NestorW@contoso.example", "Signed off, go ahead.", "2026-05-02T15:45:00Z"},
		{"Team lunch", "Alex Wilber", "AlexW@contoso.example", "Friday at noon?", "2026-04-30T09:30:00Z"},
	},
	"NestorW": {
		{"Holiday staffing", "Adele Vance", "AdeleV@contoso.example", "Here is the proposed rota for the holidays.", "2026-05-01T18:10:00Z"},
	},
}

// mailbox returns the fixture messages of the user whose UPN starts with
// name, oldest last as they were listed.
func mailbox(name string) []Message {
	var out []Message
	for i, m := range mailboxes[name] {
		t, err := time.Parse(time.RFC3339, m.received)
		if err != nil {
			panic(err) // fixture error: caught by every test run
		}
		out = append(out, Message{
			ID:      fmt.Sprintf("AAMkAG%s%03d", name, i+1),
			Subject: m.subject, FromName: m.fromName, FromAddress: m.fromAddress,
			BodyPreview: m.preview, IsRead: i > 0, Received: t,
		})
	}
	return out
}
