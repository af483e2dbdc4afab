"""The personnel software's side of SCIM, shared by test_scim.py and tests/bench/scim_bench.py:
a client-credentials token, the staff number -> id map read by paging through /Users, and the
replay of events.csv as Bulk requests (a hire is a POST, every other event a PATCH of the
Congvu extension with the change's kind, decision, effective date and the unit the person must be
in). A Python model of the same rules predicts which events conflict and where everyone ends up."""
import csv
import json

import requests

CV = "urn:congvu:params:scim:schemas:extension:2.0:User"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
KINDS = {"dieu_dong": "transfer", "luan_chuyen": "rotation", "bo_nhiem": "appointment", "nghi_huu": "retire"}


def load_events(path):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: (r["effective_date"], int(r["seq"])))
    return rows


class Client:
    def __init__(self, base, ca, client_id, secret, scope="scim:read scim:write"):
        self.base = base
        self.ca = ca
        self.http = requests.Session()
        # Per request: REQUESTS_CA_BUNDLE in the environment would override a session's verify.
        r = self.http.post(base + "/oidc/token", auth=(client_id, secret), verify=ca,
                           data={"grant_type": "client_credentials", "scope": scope})
        r.raise_for_status()
        self.http.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        self.http.headers["Content-Type"] = "application/scim+json"

    def get(self, path, **params):
        return self.http.get(self.base + "/scim/v2" + path, params=params, verify=self.ca)

    def send(self, method, path, body, headers=None):
        return self.http.request(method, self.base + "/scim/v2" + path, data=json.dumps(body), headers=headers or {},
                                 verify=self.ca)

    def everyone(self, page=1000):
        """staff number -> the User, by paging through /Users."""
        out, start = {}, 1
        while True:
            r = self.get("/Users", startIndex=start, count=page,
                         attributes=f"userName,emails,title,{ENT}:employeeNumber,{CV}:unitCode,{CV}:status")
            r.raise_for_status()
            body = r.json()
            for u in body["Resources"]:
                out[u[ENT]["employeeNumber"]] = u
            start += len(body["Resources"])
            if not body["Resources"] or start > body["totalResults"]:
                return out


def operation(e, ids):
    """The Bulk operation for one event; `ids` maps staff numbers to ids or bulkId references."""
    if e["kind"] == "tiep_nhan":
        return {"method": "POST", "path": "/Users", "bulkId": "hire-" + e["staff_no"],
                "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                         "name": {"formatted": e["full_name"]}, ENT: {"employeeNumber": e["staff_no"]},
                         CV: {"unitCode": e["to_unit"], "position": e["position"],
                              "change": {"decision": e["decision_no"], "effectiveDate": e["effective_date"]}}}}
    change = {"kind": KINDS[e["kind"]], "decision": e["decision_no"], "effectiveDate": e["effective_date"],
              "fromUnitCode": e["from_unit"]}
    value = {"change": change}
    if e["kind"] != "nghi_huu":
        value["unitCode"] = e["to_unit"]
        value["position"] = e["position"]
    target = ids.get(e["staff_no"], "unknown-" + e["staff_no"])
    return {"method": "PATCH", "path": "/Users/" + target, "bulkId": "e" + e["seq"],
            "data": {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {CV: value}}]}}


def bulk_requests(events, ids, size=100):
    """Yields (events, BulkRequest) in order; a person hired in the same request is referenced
    by bulkId, and `ids` learns the ids the server returns (call learn() with each response)."""
    for i in range(0, len(events), size):
        chunk = events[i:i + size]
        local = dict(ids)
        ops = []
        for e in chunk:
            ops.append(operation(e, local))
            if e["kind"] == "tiep_nhan":
                local[e["staff_no"]] = "bulkId:hire-" + e["staff_no"]
        yield chunk, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops}


def learn(ids, response):
    for op in response["Operations"]:
        if op.get("bulkId", "").startswith("hire-") and op["status"] == "201":
            ids[op["bulkId"][5:]] = op["location"].rsplit("/", 1)[1]


class Model:
    """Who is where after each event, by the directory's rules; conflicts are not applied."""

    def __init__(self, users):
        self.state = {no: {"unit": u.get(CV, {}).get("unitCode", ""), "position": u.get("title", ""),
                           "status": u.get(CV, {}).get("status", "active")} for no, u in users.items()}

    def apply(self, e):
        """True when the event applies, False when it conflicts."""
        no = e["staff_no"]
        if e["kind"] == "tiep_nhan":
            if no in self.state:
                return False
            self.state[no] = {"unit": e["to_unit"], "position": e["position"], "status": "active"}
            return True
        p = self.state.get(no)
        if p is None or p["status"] == "retired" or (e["from_unit"] and e["from_unit"] != p["unit"]):
            return False
        if e["kind"] == "nghi_huu":
            p.update(unit="", position="", status="retired")
        else:
            p.update(unit=e["to_unit"], position=e["position"])
        return True
