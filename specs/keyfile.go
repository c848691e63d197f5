package specs

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// resolve makes a spec-relative path absolute against the spec's folder.
func (v *validator) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(v.dir, p)
}

const maxKeyFile = 64 << 10

var errPrivateKey = errors.New("this is a private key: give the public key (.pub)")

var publicKeyTypes = []string{
	"ssh-rsa", "ssh-ed25519", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
}

// readPublicKey reads an OpenSSH public key file. The error never quotes
// the file's content: if it is a private key, that would leak it.
func readPublicKey(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("file %s does not exist", path)
		}
		return "", fmt.Errorf("cannot read %s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	// An OpenSSH public key is one line of a few KB at most; reading no
	// further bounds a key file named /dev/zero.
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %v", path, err)
	}
	if len(data) > maxKeyFile {
		return "", fmt.Errorf("%s: larger than %d bytes: not an OpenSSH public key", path, maxKeyFile)
	}
	if err := checkPublicKey(data); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return strings.TrimSpace(string(data)), nil
}

// checkPublicKey accepts one line "TYPE BASE64 [comment]".
func checkPublicKey(data []byte) error {
	if bytes.Contains(data, []byte("PRIVATE KEY")) {
		return errPrivateKey
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 || !containsStr(publicKeyTypes, fields[0]) {
		return errors.New("not an OpenSSH public key (want \"ssh-ed25519 AAAA... comment\")")
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil || len(blob) < 4 || !bytes.Contains(blob, []byte(fields[0])) {
		return errors.New("not an OpenSSH public key: its key data is malformed")
	}
	return nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
