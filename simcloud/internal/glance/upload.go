package glance

import (
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
)

// upload streams the image data through the hashes and drops it: only
// size, md5 checksum and sha512 multihash are kept, so memory use is a
// copy buffer whatever the image size. The lock is not held while reading,
// so a slow upload does not stall the service.
func (s *Service) upload(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/octet-stream") {
		failWith(w, r, http.StatusUnsupportedMediaType, "The request media type "+ct+" is not supported by this server.", "\n<br /><br />\n")
		return
	}
	// The lock is released by defer, even if a handler panics.
	im, ok := func() (*image, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		im, ok := s.editable(w, r)
		if ok && im.Status != "queued" {
			fail(w, r, http.StatusConflict, "Image status transition from %s to saving is not allowed", im.Status)
			return nil, false
		}
		if ok {
			im.Status = "saving"
		}
		return im, ok
	}()
	if !ok {
		return
	}
	sum, hash := md5.New(), sha512.New()
	n, err := io.Copy(io.MultiWriter(sum, hash), r.Body)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.images[im.ID] != im { // deleted (or restored away) meanwhile
		fail(w, r, http.StatusGone, "Image %s could not be found after upload. The image may have been deleted during the upload.", im.ID)
		return
	}
	if err != nil {
		im.Status = "queued" // Glance returns a failed upload to queued
		fail(w, r, http.StatusBadRequest, "Error in store: %v", err)
		return
	}
	im.Size = &n
	im.Checksum = hex.EncodeToString(sum.Sum(nil))
	im.HashAlgo = "sha512"
	im.HashValue = hex.EncodeToString(hash.Sum(nil))
	im.Status = "active"
	im.Updated = s.now().UTC()
	w.WriteHeader(http.StatusNoContent)
}
