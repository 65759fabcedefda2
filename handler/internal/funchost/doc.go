// Package funchost is a small stand-in for the Azure Functions host
// (Azure/azure-functions-host) running a custom handler with
// customHandler.enableProxyingHttpRequest set. Azure Functions Core Tools
// cannot be installed on the development machines of this project, so tests
// and the local stack use this package instead of `func start`.
//
// It does what the host does for an HTTP-in/HTTP-out custom handler app:
//
//   - reads host.json and the function.json files beside it and rejects what
//     the host would reject (LoadApp);
//   - starts the handler executable with FUNCTIONS_CUSTOMHANDLER_PORT and
//     waits until GET / gets any HTTP answer (DefaultHttpWorkerService.IsWorkerReady);
//   - routes each request with Functions route-template rules (routePrefix,
//     case-insensitive literals, {name}, {*catchall}, method lists), checks
//     function keys when asked to, and forwards it unchanged (path, query,
//     Host) to the handler the way the host's YARP forwarder does
//     (DefaultHttpProxyService): no redirect following, streamed bodies,
//     an x-ms-invocation-id header per request.
//
// It is not a full host: no bindings other than http, no admin API, no
// complex route segments or route constraints, no CORS.
package funchost
