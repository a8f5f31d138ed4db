"""with_text.py N CMD ARGS... -- runs CMD with every argument "{TEXT}" replaced by a long text:
"the quick brown fox jumps over the lazy dog" N times, joined by spaces (lit's shell has no
command substitution). Passes the command's output and exit status through."""
import subprocess
import sys

text = " ".join(["the quick brown fox jumps over the lazy dog"] * int(sys.argv[1]))
cmd = [text if a == "{TEXT}" else a for a in sys.argv[2:]]
sys.stdout.flush()
sys.exit(subprocess.run(cmd).returncode)
