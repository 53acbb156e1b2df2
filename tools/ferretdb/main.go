// Command ferretdb runs FerretDB v1 with its SQLite backend as the project's embedded
// MongoDB-wire database. It is built from the embeddable package rather than
// `go install …/cmd/ferretdb`, whose module zip lacks build/version/version.txt and
// panics at start (upstream issue #2982).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "host:port to listen on")
	sqliteURL := flag.String("sqlite-url", "file:./data/", "SQLite directory URL (must end with /)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	exitWithParent := flag.Bool("exit-with-parent", false, "exit when the process that started us goes away")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb: bad -log-level:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if *exitWithParent {
		// A service killed with SIGKILL cannot stop its database; the database notices instead.
		parent := os.Getppid()
		go func() {
			for range time.Tick(500 * time.Millisecond) {
				if os.Getppid() != parent {
					stop()
					return
				}
			}
		}()
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
	// The launcher waits for this exact line, from this very process, before it connects: the listener is
	// bound by now (ferretdb.New binds it), and the address is the one bound, so -listen-addr may name port 0
	// and no other process can be mistaken for this one.
	uri, err := url.Parse(f.MongoDBURI())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "ferretdb: ready on %s\n", uri.Host)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}
