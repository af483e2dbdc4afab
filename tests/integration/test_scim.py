"""SCIM 2.0 over HTTPS (certificates verified against the local CA) with the shared province:
the personnel software (a client-credentials client registered with `congvu client add --role
--unit`) replays the 2 000 events of events.csv as Bulk requests with the server's clock at
2027-06-01; afterwards every person's unit, position and status match the events, no id or
address changed, a conflicting event is reported and not applied, and the audit chain and the
indexes verify. A `kill -9` in the middle of the replay loses nothing acknowledged and leaves no
index entry dangling. An HR admin of one department cannot touch another's people."""
import os
import signal
import threading
import time

import requests

import scim_replay
import support
from support import PROVINCE, run, run_json

CV = scim_replay.CV
CLOCK = {"CONGVU_CLOCK": "2027-06-01"}


class ScimProvince(support.ServerTest):
    def setUp(self):
        super().setUp()
        run("import", "--units", f"{PROVINCE}/units.csv", "--staff", f"{PROVINCE}/staff.csv", "--since", "2025-12-31",
            data=self.data)
        self.secret = self.add_client("hr-sync", "province-admin", None)
        self.serve()

    def serve(self):
        self.port = support.free_port()
        self.base = f"https://127.0.0.1:{self.port}"
        listen = "".join(f'{n} = "off"\n' for n in support.LISTENERS if n != "https")
        config = self.write("scim.toml", f'[listen]\nhttps = "127.0.0.1:{self.port}"\n{listen}'
                            f'[idp]\nissuer = "{self.base}"\n[mail]\n{support.NO_DNS}')
        self.proc, self.info = self.start("--no-demo", config=config, env=CLOCK)
        self.ca = self.info["ca"]

    def tearDown(self):
        if self.proc.poll() is None:
            self.stop(self.proc)
        super().tearDown()

    def add_client(self, name, role, unit, scope="scim:read,scim:write"):
        args = ["client", "add", name, "--grant", "client_credentials", "--scope", scope, "--role", role]
        if unit:
            args += ["--unit", unit]
        return run_json(*args, data=self.data)["client_secret"]

    def client(self, name="hr-sync", secret=None):
        return scim_replay.Client(self.base, self.ca, name, secret or self.secret)

    def verify_store(self):
        check = run_json("check", data=self.data)
        self.assertTrue(check["ok"], check)
        self.assertTrue(run_json("audit", "verify", data=self.data)["ok"])

    def test_replay_events_as_of_2027_06_01(self):
        c = self.client()
        before = c.everyone()
        self.assertEqual(len(before), 20000)
        model = scim_replay.Model(before)
        events = scim_replay.load_events(f"{PROVINCE}/events.csv")
        self.assertEqual(len(events), 2000)
        ids = {no: u["id"] for no, u in before.items()}
        expected_fail, failed = [], []
        t0 = time.monotonic()
        for chunk, body in scim_replay.bulk_requests(events, ids):
            r = c.send("POST", "/Bulk", body)
            self.assertEqual(r.status_code, 200, r.text[:500])
            answer = r.json()
            scim_replay.learn(ids, answer)
            for e, op in zip(chunk, answer["Operations"]):
                ok = model.apply(e)
                if not ok:
                    expected_fail.append(e["seq"])
                if op["status"] not in ("200", "201"):
                    failed.append(e["seq"])
                self.assertEqual(op["status"] in ("200", "201"), ok, (e, op))
        elapsed = time.monotonic() - t0
        print(f"replayed 2000 events through SCIM Bulk in {elapsed:.2f} s")
        self.assertEqual(failed, expected_fail)

        # A conflicting change is reported and not applied.
        no, person = next((no, p) for no, p in model.state.items() if p["status"] == "active")
        wrong = {"schemas": [scim_replay.PATCH], "Operations": [{"op": "replace", "value": {CV: {
            "unitCode": "000.00.01.H99", "change": {"decision": "1/QĐ", "fromUnitCode": "999.99.99.H99"}}}}]}
        r = c.send("PATCH", "/Users/" + ids[no], wrong)
        self.assertEqual(r.status_code, 409, r.text)
        self.assertIn("999.99.99.H99", r.json()["detail"])

        after = c.everyone()
        self.assertEqual(len(after), len(model.state))
        for no, want in model.state.items():
            got = after[no]
            self.assertEqual(got[CV].get("unitCode", ""), want["unit"], no)
            self.assertEqual(got.get("title", ""), want["position"], no)
            self.assertEqual(got[CV]["status"], want["status"], no)
            if no in before:
                self.assertEqual(got["id"], before[no]["id"], no)
                self.assertEqual(got["userName"], before[no]["userName"], no)
                self.assertEqual(got["emails"], before[no]["emails"], no)
        self.assertEqual(run_json("events", "pending", data=self.data)["scheduled"], [])
        self.verify_store()
        # The history of a person the file moved twice or more, with the decisions.
        moved = next(no for no in before if sum(1 for e in events if e["staff_no"] == no) >= 2)
        user = c.get("/Users/" + ids[moved]).json()
        decisions = [a.get("decision") for a in user[CV]["assignments"]]
        for e in events:
            if e["staff_no"] == moved and e["kind"] != "nghi_huu":
                self.assertIn(e["decision_no"], decisions)

    def test_kill_9_in_the_middle_of_the_replay(self):
        c = self.client()
        before = c.everyone()
        ids = {no: u["id"] for no, u in before.items()}
        events = scim_replay.load_events(f"{PROVINCE}/events.csv")
        # Generated as the replay goes: a request refers to people hired by the ones before it.
        batches = scim_replay.bulk_requests(events[:1200], ids, size=50)
        acknowledged = []
        for _ in range(10):
            chunk, body = next(batches)
            r = c.send("POST", "/Bulk", body)
            self.assertEqual(r.status_code, 200)
            self.assertTrue(all(op["status"] in ("200", "201") for op in r.json()["Operations"]))
            scim_replay.learn(ids, r.json())
            acknowledged.extend(chunk)
        # One more request in flight, then SIGKILL.
        in_flight, body = next(batches)
        t = threading.Thread(target=lambda: self._swallow(c, body))
        t.start()
        time.sleep(0.05)
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        t.join()
        self.verify_store()  # no index entry dangles, the chain holds
        self.serve()
        after = self.client().everyone()
        # What was acknowledged is there; the request in flight is all there or not at all.
        outcomes = []
        for applied in (acknowledged, acknowledged + in_flight):
            model = scim_replay.Model(before)
            for e in applied:
                model.apply(e)
            outcomes.append(all(after.get(no, {}).get(CV, {}).get("unitCode", "") == p["unit"] and
                                after.get(no, {}).get(CV, {}).get("status") == p["status"]
                                for no, p in model.state.items()))
        self.assertTrue(any(outcomes), "the store matches neither the acknowledged prefix nor it plus the request in flight")
        for no, u in before.items():
            self.assertEqual(after[no]["id"], u["id"])
            self.assertEqual(after[no]["emails"], u["emails"])

    @staticmethod
    def _swallow(c, body):
        try:
            c.send("POST", "/Bulk", body)
        except requests.RequestException:
            pass

    def test_unit_scoped_clients_over_https(self):
        # Sở Tài chính's HR client (000.00.03.H99 in the shared province).
        secret = self.add_client("hr-stc", "hr-admin", "000.00.03.H99")
        mine = self.client("hr-stc", secret)
        listing = mine.get("/Users", filter='employeeNumber pr', count=5).json()
        self.assertGreater(listing["totalResults"], 0)
        province = self.client()
        inside = listing["Resources"][0]
        outsider = province.get("/Users", filter='urn:congvu:params:scim:schemas:extension:2.0:User:unitCode eq "000.00.01.H99"',
                                count=1).json()["Resources"][0]
        audit_before = run_json("audit", "verify", data=self.data)["records"]
        move = lambda unit, decision: {"schemas": [scim_replay.PATCH], "Operations": [
            {"op": "replace", "value": {CV: {"unitCode": unit, "change": {"decision": decision}}}}]}
        r = mine.send("PATCH", "/Users/" + outsider["id"], move("000.00.03.H99", "5/QĐ-STC"))
        self.assertEqual(r.status_code, 403, r.text)
        self.assertEqual(run_json("audit", "verify", data=self.data)["records"], audit_before)
        # Out of its own department into another: the target is outside its scope, so it is a
        # proposal (202, the pending change) for an administrator over the target; a province
        # administrator makes the transfer, audited with the decision.
        r = mine.send("PATCH", "/Users/" + inside["id"], move("000.00.01.H99", "6/QĐ-STC"), headers={"If-Match": '"stale"'})
        self.assertEqual(r.status_code, 412)
        etag = mine.get("/Users/" + inside["id"]).headers["ETag"]
        r = mine.send("PATCH", "/Users/" + inside["id"], move("000.00.01.H99", "6/QĐ-STC"), headers={"If-Match": etag})
        self.assertEqual(r.status_code, 202, r.text)
        proposal = r.json()[CV]["proposal"]
        self.assertEqual((proposal["status"], proposal["unitCode"]), ("pending", "000.00.01.H99"))
        self.assertNotEqual(province.get("/Users/" + inside["id"]).json()[CV]["unitCode"], "000.00.01.H99")
        # The operator sees it and refuses it (the reason goes to the audit trail the proposer reads).
        listed = run_json("events", "proposals", data=self.data)
        self.assertEqual([(p["number"], p["to_unit"], p["proposer"]) for p in listed],
                         [(str(proposal["number"]), "000.00.01.H99", "client:hr-stc")])
        support.run("events", "refuse", str(proposal["number"]), "--reason", "không có chỉ tiêu", data=self.data)
        self.assertEqual(run_json("events", "proposals", data=self.data), [])
        r = province.send("PATCH", "/Users/" + inside["id"], move("000.00.01.H99", "6/QĐ-STC"))
        self.assertEqual(r.status_code, 200, r.text)
        log = run_json("audit", "log", "--target", inside["id"], data=self.data)
        self.assertEqual(log[-1]["action"], "person.transfer")
        self.assertEqual(log[-1]["reason"], "6/QĐ-STC")
        self.assertEqual(mine.get("/Users/" + inside["id"]).status_code, 403)
        # Tokens without the right audience or scope are refused.
        read_only = scim_replay.Client(self.base, self.ca, "hr-stc", secret, scope="scim:read")
        self.assertEqual(read_only.send("PATCH", "/Users/" + inside["id"], move("000.00.03.H99", "7")).status_code, 403)
        self.assertEqual(requests.get(self.base + "/scim/v2/Users", verify=self.ca).status_code, 401)
        # Garbage bodies are refused with SCIM errors, nothing written.
        for body in (b"{", b"\xff\xfe", b'{"Operations": 5}', b"[]"):
            r = mine.http.post(self.base + "/scim/v2/Bulk", data=body, verify=self.ca)
            self.assertEqual(r.status_code, 400, body)
            self.assertEqual(r.json()["schemas"], ["urn:ietf:params:scim:api:messages:2.0:Error"])
        self.verify_store()


if __name__ == "__main__":
    support.main()
