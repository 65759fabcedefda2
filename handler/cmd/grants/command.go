package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

var errHelp = errors.New("help")

// command is one parsed invocation.
type command struct {
	verb         string // list, revoke, unblock
	user, client string
	all, yes     bool
	json         bool
	reason       string
}

func parse(verb string, args []string, stderr io.Writer) (command, error) {
	c := command{verb: verb}
	fs := flag.NewFlagSet("grants "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.user, "user", "", "the user's Entra object id (oid)")
	fs.StringVar(&c.client, "client", "", "the client id (a registration's id or a metadata document URL)")
	switch verb {
	case "list":
		fs.BoolVar(&c.json, "json", false, "one JSON object per grant instead of a table")
	case "revoke":
		fs.BoolVar(&c.all, "all", false, "revoke every grant (needs -yes)")
		fs.BoolVar(&c.yes, "yes", false, "confirm -all")
		fs.StringVar(&c.reason, "reason", "", "with -client: why, kept with the block")
	case "unblock":
	case "-h", "-help", "--help", "help":
		usage(stderr)
		return c, errHelp
	default:
		usage(stderr)
		return c, fmt.Errorf("unknown command %q", verb)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, errHelp
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case verb == "revoke" && c.all && (c.user != "" || c.client != ""):
		return c, errors.New("revoke: -all cannot be combined with -user or -client")
	case verb == "revoke" && c.all && !c.yes:
		return c, errors.New("revoke -all ends every sign-in of every user: add -yes to confirm")
	case verb == "revoke" && !c.all && (c.user == "") == (c.client == ""):
		return c, errors.New("revoke: name exactly one of -user, -client or -all")
	case verb == "unblock" && c.client == "":
		return c, errors.New("unblock: -client is required")
	}
	return c, nil
}

// operator carries out commands against the store.
type operator struct {
	store store.Store
	out   io.Writer
	log   *slog.Logger // audit events
	now   func() time.Time
}

func (o *operator) do(ctx context.Context, c command) error {
	if o.now == nil {
		o.now = time.Now
	}
	switch c.verb {
	case "list":
		return o.list(ctx, c)
	case "unblock":
		if err := o.store.DeleteClientBlock(ctx, c.client); err != nil {
			return err
		}
		audit.Log(ctx, o.log, audit.ClientUnblocked, slog.String("client_id", c.client), slog.String("by", "operator"))
		_, err := fmt.Fprintf(o.out, "client %s may sign in again\n", c.client)
		return err
	}
	return o.revoke(ctx, c)
}

// revoke deletes the grants the command names. For a client the block is
// written first: a sign-in that finishes meanwhile either sees the block
// (and deletes its own grant) or wrote its grant before the listing below.
func (o *operator) revoke(ctx context.Context, c command) error {
	if c.client != "" {
		if err := o.store.PutClientBlock(ctx, store.ClientBlock{ClientID: c.client, Reason: c.reason, CreatedAt: o.now()}); err != nil {
			return fmt.Errorf("block client: %w", err)
		}
	}
	grants, err := o.store.ListGrants(ctx, store.GrantQuery{Subject: c.user, ClientID: c.client})
	if err != nil {
		return fmt.Errorf("list grants: %w", err)
	}
	n := 0
	for _, g := range grants {
		if err := o.store.DeleteGrant(ctx, g.ID); err != nil {
			return fmt.Errorf("revoked %d of %d grants, then: %w", n, len(grants), err)
		}
		n++
		audit.Log(ctx, o.log, audit.GrantRevoked, slog.String("by", "operator"), slog.String("client_id", g.ClientID),
			slog.String("sub", g.Subject), audit.Grant(g.ID))
	}
	if c.client != "" {
		audit.Log(ctx, o.log, audit.ClientBlocked, slog.String("client_id", c.client), slog.Int("grants_revoked", n),
			slog.String("reason", c.reason), slog.String("by", "operator"))
		_, err = fmt.Fprintf(o.out, "revoked %d grants; client %s is blocked from signing in (grants unblock -client … lifts it)\n", n, c.client)
		return err
	}
	_, err = fmt.Fprintf(o.out, "revoked %d grants\n", n)
	return err
}

// listed is one grant as list prints it: identifiers, never the grant id
// or anything sealed.
type listed struct {
	Grant     string    `json:"grant"`
	Subject   string    `json:"sub"`
	Username  string    `json:"username,omitempty"`
	ClientID  string    `json:"client_id"`
	Scope     string    `json:"scope"`
	Created   time.Time `json:"created"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	ExpiresAt time.Time `json:"expires"`
}

func (o *operator) list(ctx context.Context, c command) error {
	grants, err := o.store.ListGrants(ctx, store.GrantQuery{Subject: c.user, ClientID: c.client})
	if err != nil {
		return err
	}
	slices.SortFunc(grants, func(a, b store.Grant) int { return b.CreatedAt.Compare(a.CreatedAt) })
	rows := make([]listed, 0, len(grants))
	for _, g := range grants {
		rows = append(rows, listed{Grant: audit.GrantRef(g.ID), Subject: g.Subject, Username: g.Username, ClientID: g.ClientID,
			Scope: g.Scope, Created: g.CreatedAt, LastUsed: g.LastUsedAt, ExpiresAt: g.ExpiresAt})
	}
	if c.json {
		enc := json.NewEncoder(o.out)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(o.out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "GRANT\tUSER\tUSERNAME\tCLIENT\tSCOPE\tCREATED\tLAST USED\tEXPIRES")
	for _, r := range rows {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Grant, r.Subject, r.Username, r.ClientID,
			strings.ReplaceAll(r.Scope, " ", ","), stamp(r.Created), stamp(r.LastUsed), stamp(r.ExpiresAt))
	}
	_, _ = fmt.Fprintf(tw, "%d grants\n", len(rows))
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
