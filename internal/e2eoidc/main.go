// Command e2eoidc is the OpenID Connect provider of the dashboard's browser
// tests: a real one (discovery, keys, the code flow with PKCE) that signs
// in one user without asking. It prints its issuer and client on its first
// line of output and serves until it is stopped. It is a test tool, never
// part of the gateway's binary.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/oauth2-proxy/mockoidc"
)

func main() {
	email := flag.String("email", "sam@example.com", "the verified email of the user it signs in")
	subject := flag.String("subject", "e2e-sam", "the user's subject")
	flag.Parse()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	user := &mockoidc.MockUser{Subject: *subject, Email: *email, EmailVerified: true, PreferredUsername: *subject}
	// Every authorization signs in the same user.
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint {
				m.QueueUser(user)
			}
			next.ServeHTTP(w, r)
		})
	}); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		log.Fatal(err)
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]string{"issuer": m.Issuer(), "clientId": m.ClientID, "clientSecret": m.ClientSecret})
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	_ = m.Shutdown()
}
