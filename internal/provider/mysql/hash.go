package mysql

import (
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"filippo.io/edwards25519"
)

// passwordHash returns the authentication string MariaDB's plugin stores
// for password, computed here so that plaintext passwords never appear in a
// statement (nor in a server's general or binary log):
//
//   - mysql_native_password: "*" + HEX(SHA1(SHA1(password))), as PASSWORD();
//   - ed25519: the unpadded base64 of the Ed25519 public key whose secret
//     scalar is the clamped SHA-512 of the password, as the auth_ed25519
//     plugin computes it.
//
// Any other plugin is ErrUnsupported.
func passwordHash(plugin, password string) (string, error) {
	switch plugin {
	case "mysql_native_password":
		if password == "" {
			return "", nil
		}
		first := sha1.Sum([]byte(password))
		second := sha1.Sum(first[:])
		return "*" + strings.ToUpper(hex.EncodeToString(second[:])), nil
	case "ed25519":
		h := sha512.Sum512([]byte(password))
		s, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
		if err != nil {
			return "", err
		}
		return base64.RawStdEncoding.EncodeToString(new(edwards25519.Point).ScalarBaseMult(s).Bytes()), nil
	}
	return "", fmt.Errorf("%w: plugin %s", ErrUnsupported, plugin)
}
