// Package apimemu is a stand-in for the Azure API Management gateway in
// front of the Function App. Neither API Management nor its policy engine
// can run on the development machines of this project, so tests and the
// local stack use this package to execute the real infra/ files:
//
//   - the operation list infra/apim-operations.json, which apim.bicep deploys
//     with loadJsonContent;
//   - the `var policies` mapping of infra/modules/apim.bicep (policy key →
//     file, including the authMode == 'proxy' ? … : … choice), parsed
//     strictly: any other shape refuses to start;
//   - the API policy (api.xml) and the operation policy files, with
//     {{named values}} substituted (an unknown one refuses to start).
//
// It models, from the API Management policy reference
// (learn.microsoft.com/azure/api-management/api-management-policies):
//
//   - operation matching by method and URL template, with the documented
//     404 "Resource not found" (configuration / OperationNotFound,
//     learn.microsoft.com/azure/api-management/api-management-error-handling-policies)
//     when nothing matches;
//   - policy scopes: operation → API → the default global policy, whose
//     backend section is <forward-request/> ("By default, API Management sets
//     up this policy at the global scope", forward-request-policy), with
//     <base/> placing the parent scope's section;
//   - the sections inbound, backend, outbound and on-error, the jump to
//     on-error with context.LastError (Source, Reason, Message, Scope,
//     Section) on any policy error, and return-response ending the pipeline;
//   - the elements cors, validate-jwt (openid-config, audiences, issuers),
//     rate-limit-by-key, set-header, set-backend-service, forward-request,
//     return-response (set-status, set-header, set-body), choose/when/otherwise
//     and base, each with the attributes and defaults of its reference page
//     (cited where it is implemented);
//   - the C# policy expressions the files use, recognised one by one from a
//     table (expr.go), each with a Go implementation, and templates for
//     expressions with one string literal a {{named value}} fills in
//     (named values are replaced by their text before an expression
//     runs, as the reference describes them). There is no C#
//     evaluator: an expression, element or attribute that is not in the
//     tables refuses to start with the file and line, so no policy change
//     goes untested.
//
// Where the reference is silent, the stand-in makes a choice and says so in
// the code: CORS headers are set (not appended) on responses that come back
// through outbound, and not on responses made by return-response or by an
// error; a preflight for an operation whose policies have no cors element is
// answered like an unmatched request; the forwarded request carries the
// backend's Host and the client address appended to X-Forwarded-For.
//
// It is not API Management: no products, subscriptions or keys, no caching,
// no TLS or protocols check (the API is https-only in Azure), no request
// size or managed-gateway limits, no tracing or diagnostics, no other
// policies, no C# evaluation, no reason phrases (Go writes the standard
// ones). It is never linked into the handler binary.
package apimemu
