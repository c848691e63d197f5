package nova

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// keyTypes are the public key algorithms accepted, with the key blob's
// expected number of length-prefixed fields after the type name.
var keyTypes = map[string]int{
	"ssh-rsa":             2, // e, n
	"ssh-ed25519":         1, // 32-byte key
	"ssh-dss":             4, // p, q, g, y
	"ecdsa-sha2-nistp256": 2, // curve, point
	"ecdsa-sha2-nistp384": 2,
	"ecdsa-sha2-nistp521": 2,
}

// parsePublicKey checks an OpenSSH public key line ("type base64 [comment]")
// and returns its MD5 fingerprint as Nova shows it (aa:bb:...).
func parsePublicKey(line string) (string, error) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return "", errors.New("not an OpenSSH public key")
	}
	n, ok := keyTypes[f[0]]
	if !ok {
		return "", fmt.Errorf("unsupported key type %q", f[0])
	}
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		return "", errors.New("key data is not base64")
	}
	rest := blob
	fields := make([][]byte, 0, n+1)
	for len(rest) > 0 {
		if len(rest) < 4 {
			return "", errors.New("truncated key data")
		}
		l := binary.BigEndian.Uint32(rest)
		if uint64(l) > uint64(len(rest)-4) {
			return "", errors.New("truncated key data")
		}
		fields = append(fields, rest[4:4+l])
		rest = rest[4+l:]
	}
	if len(fields) != n+1 || string(fields[0]) != f[0] {
		return "", errors.New("key data does not match its type")
	}
	if f[0] == "ssh-ed25519" && len(fields[1]) != 32 {
		return "", errors.New("bad ed25519 key length")
	}
	sum := md5.Sum(blob)
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(hexes, ":"), nil
}

// generateKey makes an RSA key pair as Nova does for a keypair created
// without a public key: the OpenSSH public line and a PEM private key.
func generateKey(comment string) (pub, priv string, err error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	var blob bytes.Buffer
	put := func(b []byte) {
		_ = binary.Write(&blob, binary.BigEndian, uint32(len(b)))
		blob.Write(b)
	}
	put([]byte("ssh-rsa"))
	put(mpint(big.NewInt(int64(k.E))))
	put(mpint(k.N))
	pub = "ssh-rsa " + base64.StdEncoding.EncodeToString(blob.Bytes()) + " " + comment
	priv = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	return pub, priv, nil
}

// mpint is SSH's encoding of a positive big integer: big-endian with a
// leading zero byte when the top bit is set.
func mpint(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}
