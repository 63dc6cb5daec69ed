"""`flask --app app …` under an address-space limit (RLIMIT_AS) for the hostile-upload tests.

    python tests/limited_cli.py LIMIT_BYTES import-log FILE --contract CODE --json

The limit applies to the whole process, interpreter and libraries included. At exit the peaks
of its address space and of its resident memory (kB, from /proc) go to stderr as
`peaks: VmPeak=… VmHWM=…`.
"""
from __future__ import annotations

import atexit
import re
import resource
import sys
from pathlib import Path


def _peaks() -> None:
    status = Path("/proc/self/status").read_text()
    found = dict(re.findall(r"^(VmPeak|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
    print(f"peaks: VmPeak={found.get('VmPeak')} VmHWM={found.get('VmHWM')}", file=sys.stderr)


if __name__ == "__main__":
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    atexit.register(_peaks)
    from flask.cli import main

    sys.argv = ["flask", "--app", "app", *sys.argv[2:]]
    main()
