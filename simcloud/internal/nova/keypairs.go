package nova

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// keypairName is Nova's rule before 2.92.
var keypairName = regexp.MustCompile(`^[a-zA-Z0-9 _-]{1,255}$`)

// keypairUser is whose keypairs a request is about: keypairs belong to a
// user; an admin may name another with user_id (2.10+).
func keypairUser(r *http.Request, bodyUser string) string {
	c := caller(r)
	u := r.URL.Query().Get("user_id")
	if bodyUser != "" {
		u = bodyUser
	}
	if u != "" && c.Admin && mv(r) >= 10 {
		return u
	}
	return c.UserID
}

func keypairView(r *http.Request, k *keypair, full bool) map[string]any {
	m := map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint}
	if mv(r) >= 2 {
		m["type"] = k.Type
	}
	if full {
		m["user_id"] = k.UserID
		m["id"] = k.ID
		m["created_at"] = simcore.Timestamp(k.Created)
		m["deleted"] = false
		m["deleted_at"] = nil
		m["updated_at"] = nil
	}
	return m
}

func (s *Service) listKeypairs(w http.ResponseWriter, r *http.Request) {
	user := keypairUser(r, "")
	var ks []*keypair
	for _, k := range s.st.Keypairs {
		if k.UserID == user {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(a, b *keypair) int { return cmp.Compare(a.Name, b.Name) })
	out := []any{}
	for _, k := range ks {
		out = append(out, map[string]any{"keypair": keypairView(r, k, false)})
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"keypairs": out})
}

func (s *Service) createKeypair(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Keypair *struct {
			Name      string `json:"name"`
			PublicKey string `json:"public_key"`
			Type      string `json:"type"`
			UserID    string `json:"user_id"`
		} `json:"keypair"`
	}
	if err := simcore.ReadJSON(r, &body); err != nil || body.Keypair == nil {
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute keypair.")
		return
	}
	b := body.Keypair
	if !keypairName.MatchString(b.Name) {
		faults.Write(w, http.StatusBadRequest, "Keypair data is invalid: Keypair name contains unsafe characters")
		return
	}
	typ := "ssh"
	if b.Type != "" && mv(r) >= 2 {
		typ = b.Type
	}
	if typ != "ssh" {
		faults.Writef(w, http.StatusBadRequest, "Keypair type %s is not supported by the simulator", typ)
		return
	}
	user := keypairUser(r, b.UserID)
	// Nova counts keypairs per user against the project's key_pairs
	// quota, before it looks for a duplicate; real Zed refuses with
	// 403 {"forbidden": {"message": "Quota exceeded, too many key pairs."}}.
	if lim := s.quota("keypairs"); lim >= 0 && s.keypairCount(user)+1 > lim {
		faults.Write(w, http.StatusForbidden, "Quota exceeded, too many key pairs.")
		return
	}
	key := user + "/" + b.Name
	if _, dup := s.st.Keypairs[key]; dup {
		faults.Writef(w, http.StatusConflict, "Key pair '%s' already exists.", b.Name)
		return
	}
	k := &keypair{Name: b.Name, UserID: user, Type: typ, PublicKey: b.PublicKey, Created: s.knobs.Now()}
	var private string
	if b.PublicKey == "" {
		pub, priv, err := generateKey("Generated-by-Nova")
		if err != nil {
			faults.Write(w, http.StatusInternalServerError, "Keypair generation failed")
			return
		}
		k.PublicKey, private = pub, priv
	}
	fp, err := parsePublicKey(k.PublicKey)
	if err != nil {
		faults.Write(w, http.StatusBadRequest, "Keypair data is invalid: failed to generate fingerprint")
		return
	}
	k.Fingerprint = fp
	s.st.KeypairSeq++
	k.ID = s.st.KeypairSeq
	s.st.Keypairs[key] = k
	v := keypairView(r, k, false)
	v["user_id"] = k.UserID
	// The private key is handed out once and never stored.
	if private != "" {
		v["private_key"] = private
	}
	status := http.StatusOK
	if mv(r) >= 2 {
		status = http.StatusCreated
	}
	simcore.WriteJSON(w, status, map[string]any{"keypair": v})
}

// keypairCount is how many keypairs user has: what Nova counts against
// the keypair quota.
func (s *Service) keypairCount(user string) int {
	n := 0
	for _, k := range s.st.Keypairs {
		if k.UserID == user {
			n++
		}
	}
	return n
}

func (s *Service) keypairFor(w http.ResponseWriter, r *http.Request) (*keypair, string, bool) {
	user := keypairUser(r, "")
	name := r.PathValue("name")
	k, ok := s.st.Keypairs[user+"/"+name]
	if !ok {
		faults.Writef(w, http.StatusNotFound, "Keypair %s not found for user %s", name, user)
	}
	return k, user + "/" + name, ok
}

func (s *Service) showKeypair(w http.ResponseWriter, r *http.Request) {
	if k, _, ok := s.keypairFor(w, r); ok {
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"keypair": keypairView(r, k, true)})
	}
}

func (s *Service) deleteKeypair(w http.ResponseWriter, r *http.Request) {
	if _, key, ok := s.keypairFor(w, r); ok {
		delete(s.st.Keypairs, key)
		if mv(r) >= 2 {
			w.WriteHeader(http.StatusNoContent)
		} else {
			w.WriteHeader(http.StatusAccepted)
		}
	}
}
