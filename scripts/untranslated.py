"""List the messages of each translated catalogue that have no translation yet (exit 1 if any)."""
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent / "app" / "translations"


def main() -> int:
    missing = 0
    for po in sorted(ROOT.glob("*/LC_MESSAGES/messages.po")):
        if po.parent.parent.name == "en":  # the source language: its catalogue stays empty
            continue
        with po.open("rb") as handle:
            catalogue = read_po(handle)
        for message in catalogue:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                missing += 1
                print(f"{po.parent.parent.name}: {message.id!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
