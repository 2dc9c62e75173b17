"""Submitting a CVE record's CNA container to CVE Services, through cvelib (issue 10).

cvelib's ``CveApi`` does the work (the request, the CNA container schema check, and
the choice between publishing a reserved id and updating a published record, as its own
``cve publish`` command does).  Two things are added here, because the API address is a
setting and the desk must not be turned into a way to reach internal hosts:
- the address is checked by the rules of ``channels/fetch.py`` first: https only, and
  every address its host name has must be globally routable (loopback only with
  ``fetch.allow_loopback``, for tests);
- redirects are not followed (CVE Services does not redirect; a redirect could lead
  the API key elsewhere), and ``fetch.ca_bundle`` is trusted when set.
The host name is resolved again by the HTTP library when it connects; the address is an
operator's setting, not a stranger's, so that gap is accepted here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from cvdesk.channels.fetch import FetchError, FetchPolicy, resolve
from cvdesk.domain.safetext import parse_json

#: what cvelib would otherwise write into the record as the tool that made it
GENERATOR = {"engine": "cvdesk"}


class CveServicesError(Exception):
    """The submission failed or was refused; the message says why, in plain words."""


@dataclass(frozen=True, slots=True)
class Submitted:
    created: bool  # False: the record was published already and was updated
    message: str  # CVE Services' own answer
    sent: dict[str, Any]  # the CNA container as sent


def check_url(url: str, policy: FetchPolicy) -> None:
    """Refuse an API address the fetch rules refuse (raises CveServicesError)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise CveServicesError(f"{url}: the CVE Services address must be an https URL")
    try:
        port = parts.port or 443
        resolve(parts.hostname, port, policy.allow_loopback)
    except ValueError:
        raise CveServicesError(f"{url}: bad port") from None
    except FetchError as exc:
        raise CveServicesError(str(exc)) from None


def submit_cna(cve_id: str, container: dict[str, Any], *, api_url: str, org: str, user: str,
               api_key: str, policy: FetchPolicy) -> Submitted:
    """Publish the CNA container for ``cve_id``, or update it when CVE Services says the
    record is published already."""
    from cvelib.cve_api import CveApi, CveRecordValidationError

    check_url(api_url, policy)
    base = api_url if api_url.endswith("/") else api_url + "/"

    class GuardedApi(CveApi):  # type: ignore[misc]
        def _http_request(self, method: str, path: str, **kwargs: Any) -> Any:
            check_url(urljoin(self.url, path), policy)
            response = super()._http_request(method, path, allow_redirects=False,
                                             verify=policy.ca_bundle or True, **kwargs)
            if 300 <= response.status_code < 400:
                raise CveServicesError(f"CVE Services answered with a redirect "
                                       f"({response.status_code}), which is not followed")
            return response

    api = GuardedApi(username=user, org=org, api_key=api_key, url=base)
    cna = copy.deepcopy(container)
    cna.setdefault("x_generator", dict(GENERATOR))  # not cvelib's own name
    try:
        try:
            answer, created = api.publish(cve_id, copy.deepcopy(cna)), True
        except OSError as exc:  # requests' errors are OSErrors
            if _error_code(exc) != (403, CveApi.Errors.RECORD_EXISTS.value):
                raise
            answer, created = api.update_published(cve_id, copy.deepcopy(cna)), False
    except CveRecordValidationError as exc:
        raise CveServicesError(f"the CNA container does not validate: {exc}") from None
    except OSError as exc:
        raise CveServicesError(_describe(exc)) from None
    except ValueError as exc:  # an answer that is not JSON
        raise CveServicesError(f"CVE Services answered with something that is not JSON "
                               f"({exc})") from None
    except RecursionError:  # cvelib reads the answer with requests' json()
        raise CveServicesError("CVE Services answered with JSON nested too deeply to "
                               "read") from None
    return Submitted(created, str(answer.get("message", "")) if isinstance(answer, dict)
                     else "", cna)


def _error_code(exc: OSError) -> tuple[int, str] | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        error = parse_json(response.content).get("error", "")
    except (ValueError, AttributeError):
        error = ""
    return response.status_code, str(error)


def _describe(exc: OSError) -> str:
    response = getattr(exc, "response", None)
    if response is None:
        return f"CVE Services could not be reached ({type(exc).__name__}: {exc})"
    detail = response.text[:300].strip()
    return f"CVE Services refused the record (HTTP {response.status_code}): {detail}"
