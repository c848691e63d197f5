package specs

import (
	"gopkg.in/yaml.v3"
)

// Fields with a short form: `floating_ip: true`, `floating_ip:
// 172.16.1.100`, `user_data: "#cloud-config ..."`.

// FloatingIPSpec asks for a floating IP on one of the master's ports.
type FloatingIPSpec struct {
	At      Pos
	Path    string
	Network String `spec:"network"` // which port; default the first
	Address String `spec:"address"` // a fixed floating address; default any
	// Off is set by `floating_ip: false`.
	Off bool
}

func (f *FloatingIPSpec) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		f.At, f.Path = posOf(d.file, n), path
		if n.Tag == "!!bool" {
			var b Bool
			b.decodeNode(d, n, path)
			f.Off = !b.V
			return
		}
		f.Address.decodeNode(d, n, path)
		return
	}
	d.decodeStruct(n, reflectValue(f), path, 1)
}

// UserDataSpec is a server's user data, possibly sensitive.
type UserDataSpec struct {
	At        Pos
	Path      string
	Content   String `spec:"content,required"`
	Sensitive Bool   `spec:"sensitive"`
}

func (u *UserDataSpec) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		u.At, u.Path = posOf(d.file, n), path
		u.Content.decodeNode(d, n, path)
		return
	}
	d.decodeStruct(n, reflectValue(u), path, 1)
}
