package proctest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// On Linux the kernel is asked to kill a child when its parent dies.
func TestStartSetsPdeathsig(t *testing.T) {
	dir := t.TempDir()
	p, err := Start("true", lookPath(t, "true"), os.Environ(), filepath.Join(dir, "o"), filepath.Join(dir, "e"))
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if attrs := p.cmd.SysProcAttr; attrs == nil || attrs.Pdeathsig != syscall.SIGKILL {
		t.Errorf("SysProcAttr = %+v, want Pdeathsig SIGKILL", attrs)
	}
}
