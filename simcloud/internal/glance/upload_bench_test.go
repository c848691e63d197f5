package glance

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// BenchmarkUpload streams 16 MiB per image through gophercloud into the
// service. B/op (client and server together) staying far below the image
// size shows the data is hashed and dropped, never buffered whole.
func BenchmarkUpload(b *testing.B) {
	const size = 16 << 20
	ctx := context.Background()
	c := client(serve(b, New(Config{})), "member")
	b.SetBytes(size)
	for b.Loop() {
		im, err := images.Create(ctx, c, images.CreateOpts{Name: "bench"}).Extract()
		if err != nil {
			b.Fatal(err)
		}
		src := io.LimitReader(rand.NewChaCha8([32]byte{1}), size)
		if err := imagedata.Upload(ctx, c, im.ID, src).ExtractErr(); err != nil {
			b.Fatal(err)
		}
	}
}
