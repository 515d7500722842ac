"""Runs moto_server and exits when the process that started it dies.

Test binaries start moto lazily and cannot run destructors on statics; without this
watchdog an interrupted `cargo test` would leave a moto server behind.
Usage: python moto_launcher.py PORT
"""

import os
import sys
import threading
import time

from moto.server import main as moto_main


def watch(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


if __name__ == "__main__":
    threading.Thread(target=watch, args=(os.getppid(),), daemon=True).start()
    sys.exit(moto_main(["-H", "127.0.0.1", "-p", sys.argv[1]]))
