package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// LoginHandler serves seed 000's REST login for scripts:
// POST {"username","password"} → {"access_token","token_type":"bearer","expires_in"}.
// Errors answer {"detail": "..."} as the seed's API did, with 401 for a
// wrong username or password and 429 (and Retry-After) when limited.
func (a *Authenticator) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Username == "" || in.Password == "" {
			writeDetail(w, http.StatusBadRequest, `send JSON {"username": "...", "password": "..."}`)
			return
		}
		token, expires, _, err := a.Login(r.Context(), in.Username, in.Password, ClientIP(r))
		var limited *LoginLimitedError
		switch {
		case errors.As(err, &limited):
			w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Seconds()+0.999)))
			writeDetail(w, http.StatusTooManyRequests, limited.Error())
			return
		case errors.Is(err, ErrLoginFailed):
			writeDetail(w, http.StatusUnauthorized, err.Error())
			return
		case err != nil:
			a.Log.ErrorContext(r.Context(), "login failed", "err", err)
			writeDetail(w, http.StatusInternalServerError, "internal error")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": token,
			"token_type":   "bearer",
			"expires_in":   int(expires.Sub(a.now()).Seconds()),
		})
	})
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}
