package main

import "net/http"

// endpoint is one entry of the public URL surface (DESIGN §4). The
// Functions packaging test holds functions/*/function.json to this table in
// both directions, so a route added here without a trigger (or a trigger
// without a route) fails the build.
type endpoint struct {
	Path    string
	Methods []string
	// ProxyOnly endpoints belong to the authorization server and answer 404
	// in mode entra.
	ProxyOnly bool
}

// endpoints is the entire URL surface, one line per path.
var endpoints = []endpoint{
	{Path: "/.well-known/oauth-protected-resource", Methods: []string{"GET", "HEAD", "OPTIONS"}},
	{Path: "/.well-known/oauth-protected-resource/mcp", Methods: []string{"GET", "HEAD", "OPTIONS"}},
	{Path: "/.well-known/oauth-authorization-server", Methods: []string{"GET", "HEAD", "OPTIONS"}, ProxyOnly: true},
	{Path: "/.well-known/openid-configuration", Methods: []string{"GET", "HEAD", "OPTIONS"}, ProxyOnly: true},
	{Path: "/.well-known/jwks.json", Methods: []string{"GET", "HEAD", "OPTIONS"}, ProxyOnly: true},
	{Path: "/register", Methods: []string{"POST", "OPTIONS"}, ProxyOnly: true},
	{Path: "/authorize", Methods: []string{"GET"}, ProxyOnly: true},
	{Path: "/consent", Methods: []string{"GET", "POST"}, ProxyOnly: true},
	{Path: "/callback", Methods: []string{"GET"}, ProxyOnly: true},
	{Path: "/token", Methods: []string{"POST", "OPTIONS"}, ProxyOnly: true},
	{Path: "/revoke", Methods: []string{"POST", "OPTIONS"}, ProxyOnly: true},
	{Path: "/mcp", Methods: []string{"GET", "POST", "DELETE", "OPTIONS"}},
	{Path: "/healthz", Methods: []string{"GET", "HEAD"}},
}

// handlerFor is filled in by addRoutes; kept separate so the table above
// stays readable.
type handlers map[string]http.Handler
