// Command grants is the operator's view of who connected which app, and
// the operator's way to end it, straight against Table Storage with the
// app's own settings:
//
//	go run ./handler/cmd/grants list [-user <object id>] [-client <client id>] [-json]
//	go run ./handler/cmd/grants revoke -user <object id>
//	go run ./handler/cmd/grants revoke -client <client id> [-reason <text>]
//	go run ./handler/cmd/grants revoke -all -yes
//	go run ./handler/cmd/grants unblock -client <client id>
//
// Storage: STORAGE_CONNECTION_STRING, or STORAGE_TABLE_ENDPOINT with an
// Entra credential (the managed identity MANAGED_IDENTITY_CLIENT_ID names,
// on an Azure host; otherwise DefaultAzureCredential, e.g. your Azure CLI
// sign-in), and STORAGE_TABLE_NAME
// (default oauthstate). Revoking a client also blocks new sign-ins for it
// until "unblock". Revocations reach every instance within the grant-check
// interval (2 s). Each revocation is written to stderr as an audit event
// (by=operator). Exit status: 0 done, 1 failed, 2 usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/aztable"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, openStore, os.Stdout, os.Stderr))
}

// openStore opens the app's table from its settings. Unlike the app, it
// never falls back to memory: there would be nothing to list.
func openStore(getenv func(string) string) (store.Store, error) {
	table := getenv(config.EnvTableName)
	if table == "" {
		table = "oauthstate"
	}
	switch conn, endpoint := getenv(config.EnvTableConnString), getenv(config.EnvTableEndpoint); {
	case conn != "":
		return aztable.NewFromConnectionString(conn, table)
	case endpoint != "":
		cred, err := credential(getenv(config.EnvManagedIdentityID))
		if err != nil {
			return nil, fmt.Errorf("storage credential: %w", err)
		}
		return aztable.NewFromEndpoint(endpoint, table, cred)
	}
	return nil, errors.New("no storage configured: set " + config.EnvTableConnString + " or " + config.EnvTableEndpoint + " as the app has them")
}

// run is main without the process, for tests.
func run(ctx context.Context, args []string, getenv func(string) string, open func(func(string) string) (store.Store, error), stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	c, err := parse(args[0], args[1:], stderr)
	if err != nil {
		if !errors.Is(err, errHelp) {
			_, _ = fmt.Fprintln(stderr, "grants:", err) // the terminal; the exit status says the same
		}
		return 2
	}
	st, err := open(getenv)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "grants:", err)
		return 1
	}
	op := &operator{store: st, out: stdout, log: slog.New(slog.NewJSONHandler(stderr, nil))}
	if err := op.do(ctx, c); err != nil {
		_, _ = fmt.Fprintln(stderr, "grants:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	_, _ = fmt.Fprint(w, `usage:
  grants list [-user <object id>] [-client <client id>] [-json]
  grants revoke -user <object id> | -client <client id> [-reason <text>] | -all -yes
  grants unblock -client <client id>

Lists and revokes grants in the app's Table Storage (STORAGE_CONNECTION_STRING,
or STORAGE_TABLE_ENDPOINT with an Entra credential; STORAGE_TABLE_NAME).
Revoking a client also blocks new sign-ins for it until unblock.
`)
}

// credential is the app's user-assigned managed identity when its client id
// is set (on an Azure host, as the app runs), else DefaultAzureCredential
// (an operator's Azure CLI sign-in, with the Storage Table Data Contributor
// role on the account).
func credential(miClientID string) (azcore.TokenCredential, error) {
	if miClientID != "" {
		return azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(miClientID)})
	}
	return azidentity.NewDefaultAzureCredential(nil)
}
