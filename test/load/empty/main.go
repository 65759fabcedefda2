// Command empty is the cold-start baseline of scripts/bench.sh: the smallest
// Go HTTP server started the way the Functions host starts the handler
// (listening on 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT) and answering 200
// on every path. The handler's start-up is compared with this one's, measured
// in the same run. Test tooling only; never deployed.
package main

import (
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	})))
}
