// Command pubsub-emulator serves Google's in-memory Pub/Sub fake (pstest) over real gRPC so that
// @google-cloud/pubsub clients connect to it with PUBSUB_EMULATOR_HOST=host:port.
package main

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"cloud.google.com/go/pubsub/v2/pstest"
)

func main() {
	port := flag.Int("port", 8085, "TCP port to listen on (loopback)")
	flag.Parse()
	srv := pstest.NewServerWithPort(*port)
	log.Printf("pubsub emulator (pstest) listening on %s", srv.Addr)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	_ = srv.Close()
}
