package specs

// Protected reports whether the spec forbids deleting the object.
func (m *Meta) Protected() bool { return m.Protect }
