# Regenerates src/test/fixtures/parsed-payloads.json: every backend webhook fixture through the pure parsers, so the
# rendering tests use the payload shapes the backend really stores. Run from backend/: DEBUG=true .venv/bin/python ../frontend/scripts/dump_payloads.py
import json, os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE","config.settings")
django.setup()
from pathlib import Path
from urllib.parse import parse_qsl
from switchboard.inbox.events import InboundMessage
from switchboard.whatsapp.parsers import cloud, twilio, bridge
from switchboard.meta.messaging import iter_messaging, parse_messaging_event
out = {}
def rec(name, evs):
    for e in evs:
        if isinstance(e, InboundMessage):
            out.setdefault(e.kind, []).append({"fixture": name, "text": e.text, "payload": e.payload,
              "attachments": [{"kind": a.kind, "mime_type": a.mime_type, "filename": getattr(a,"filename","")} for a in e.attachments],
              "reply_to": e.reply_to_platform_id, "echo": e.is_echo})
for app in ["whatsapp","messenger","instagram"]:
    for f in sorted(Path(f"switchboard/{app}/tests/fixtures").iterdir()):
        try:
            if f.name.startswith("cloud__"):
                p = json.loads(f.read_text())
                for field, value in cloud.iter_changes(p): rec(f.name, cloud.parse_value(value))
            elif f.name.startswith("twilio__"):
                rec(f.name, twilio.parse(dict(parse_qsl(f.read_text().strip()))))
            elif f.name.startswith("bridge__"):
                rec(f.name, bridge.parse(json.loads(f.read_text())))
            else:
                p = json.loads(f.read_text())
                for bid, ev in iter_messaging(p): rec(f.name, parse_messaging_event(ev, business_id=bid))
        except Exception as ex:
            print("ERR", f.name, type(ex).__name__, ex, file=sys.stderr)
json.dump(out, open("../frontend/src/test/fixtures/parsed-payloads.json","w"), indent=1, default=str)
for k,v in out.items(): print(k, len(v))
