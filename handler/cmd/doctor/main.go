// Command doctor checks a deployed MCP server from outside and names the
// layer at fault when something is wrong:
//
//	go run ./handler/cmd/doctor https://apim-<token>.azure-api.net/mcp
//	go run ./handler/cmd/doctor -sign-in https://apim-<token>.azure-api.net/mcp
//
// It needs no credentials. Exit status: 0 when every check passed, 1 when
// one failed, 2 for a usage error. See handler/internal/doctor for what
// each check holds the deployment to.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/doctor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		signIn      = fs.Bool("sign-in", false, "also sign in through a browser, call whoami, refresh and revoke")
		timeout     = fs.Duration("timeout", 15*time.Second, "timeout of every request")
		signTimeout = fs.Duration("sign-in-timeout", 5*time.Minute, "how long to wait for the browser sign-in")
		clientID    = fs.String("client-id", "", "mode entra: a public client registered in Entra, for -sign-in")
		caFile      = fs.String("ca-file", "", "extra PEM roots to trust (a local emulator's certificate); verification is never switched off")
	)
	// Messages for the terminal: a failed write there has nowhere better
	// to be reported, and the exit status says the same.
	fs.Usage = func() {
		_, _ = fmt.Fprintln(stderr, "usage: doctor [flags] <MCP URL>\n\nChecks a deployment from outside: metadata, keys, the 401 challenge, CORS,\nregistration, and with -sign-in the whole sign-in. Exit 0: all passed, 1: a check failed, 2: usage.")
		fs.PrintDefaults()
	}
	// Flags may come before or after the URL.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	if len(rest) != 1 {
		fs.Usage()
		return 2
	}
	client, err := httpClient(*caFile)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "doctor:", err)
		return 2
	}
	d, err := doctor.New(doctor.Options{
		MCPURL: rest[0], Timeout: *timeout, HTTPClient: client,
		SignIn: *signIn, SignInTimeout: *signTimeout, ClientID: *clientID,
		Report: &doctor.Reporter{Out: stdout, Color: colorful(stdout)},
	})
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "doctor:", err)
		return 2
	}
	if !d.Run(ctx) {
		return 1
	}
	return 0
}

func httpClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pool, err := entra.RootsWithCAFile(caFile)
		if err != nil {
			return nil, err
		}
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr}, nil
}

// colorful: colours only on a terminal, and never with NO_COLOR
// (no-color.org) or TERM=dumb.
func colorful(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
