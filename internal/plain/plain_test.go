package plain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestText(t *testing.T) {
	assert.Equal(t, `a\x1b[31m\x0ab`, Text("a\x1b[31m\nb"))
	assert.Equal(t, "plain é", Text("plain é"))
	assert.Equal(t, "a\n\\x0d::error::x\nb", Lines("a\n\r::error::x\nb"))
}
