"""The real ``cim`` entry point with one bug planted in the failing operation (tests only).

    python -m tests.crash_cli_driver CANARY cim-arguments...

The planted bug is an extra health check for ``cim doctor`` that raises an exception whose
message, cause and local variable all hold ``CANARY``, standing for a source's identity that
a real bug might carry. Everything else (the vault, the login, the crash log) is the real
program.
"""

from __future__ import annotations

import sys

from cim_desktop import cli
from cim_desktop.services.session import Session
from cim_desktop.services.vault import doctor


def main() -> int:
    canary = sys.argv[1]

    def planted_check(session: Session) -> doctor.DoctorCheck:
        particulars = {"full_name": canary, "officer": session.officer.username}
        try:
            raise KeyError(particulars["full_name"])
        except KeyError as cause:
            raise RuntimeError(f"could not check {particulars['full_name']}") from cause

    doctor._CHECKS = (*doctor._CHECKS, planted_check)  # the planted bug
    return cli.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
