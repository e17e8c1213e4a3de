"""engine.names: kubectl's -l syntax, "did you mean", and one lookup for every verb."""

from __future__ import annotations

import pytest

from netpol.engine.names import (
    AmbiguousName,
    Names,
    Scope,
    UnknownName,
    did_you_mean,
    first_pod,
    parse_selector,
)
from netpol.engine.selectors import matches
from netpol.model.objects import Pod, Service, WorkloadRef
from netpol.model.selectors import LabelSelector, Requirement


@pytest.mark.parametrize(
    ("text", "selector"),
    [
        ("app=web", LabelSelector((("app", "web"),))),
        ("app==web", LabelSelector((("app", "web"),))),
        ("app = web , tier=db", LabelSelector((("app", "web"), ("tier", "db")))),
        ("app!=web", LabelSelector((), (Requirement("app", "NotIn", ("web",)),))),
        ("app in (a, b)", LabelSelector((), (Requirement("app", "In", ("a", "b")),))),
        ("app notin (a)", LabelSelector((), (Requirement("app", "NotIn", ("a",)),))),
        ("app", LabelSelector((), (Requirement("app", "Exists"),))),
        ("!app", LabelSelector((), (Requirement("app", "DoesNotExist"),))),
        ("k8s.io/name=x", LabelSelector((("k8s.io/name", "x"),))),
        ("app=", LabelSelector((("app", ""),))),  # kubectl: the empty value
        (
            "app in (a,b),!legacy,tier",
            LabelSelector(
                (),
                (
                    Requirement("app", "In", ("a", "b")),
                    Requirement("legacy", "DoesNotExist"),
                    Requirement("tier", "Exists"),
                ),
            ),
        ),
    ],
)
def test_kubectl_selector_syntax(text: str, selector: LabelSelector) -> None:
    assert parse_selector(text) == selector


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("app=web,", "selector 'app=web,': empty requirement (a stray comma?)"),
        ("app in (a", "selector 'app in (a': '(' without ')'"),
        ("app in a)", "selector 'app in a)': ')' without '('"),
        ("app in ()", "selector 'app in ()': '' is not a label value"),
        ("app in (a b)", "selector 'app in (a b)': 'a b' is not a label value"),
        (
            "app>1",
            "selector 'app>1': cannot read 'app>1' (write key=value, key!=value, "
            "key in (a,b), key notin (a,b), key or !key)",
        ),
        (
            "app=we b",
            "selector 'app=we b': cannot read 'app=we b' (write key=value, key!=value, "
            "key in (a,b), key notin (a,b), key or !key)",
        ),
    ],
)
def test_a_bad_selector_names_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_selector(text)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("text", "labels", "matched"),
    [
        ("app!=web", {}, True),  # kubectl: != also holds where the key is missing
        ("app!=web", {"app": "web"}, False),
        ("app notin (a)", {"app": "b"}, True),
        ("!app", {"app": "x"}, False),
        ("app,tier=db", {"app": "x", "tier": "db"}, True),
    ],
)
def test_selectors_match_as_kubectl_does(text: str, labels: dict[str, str], matched: bool) -> None:
    assert matches(parse_selector(text), labels) is matched


@pytest.mark.parametrize(
    ("name", "candidates", "hint"),
    [
        (
            "frontend-depoy",
            ["frontend-deploy", "backend-deploy"],
            " (did you mean frontend-deploy?)",
        ),
        ("fr", ["frontend-deploy", "backend-deploy"], " (did you mean frontend-deploy?)"),
        ("zzz", ["frontend-deploy"], ""),
        ("x", [], ""),
    ],
)
def test_did_you_mean_offers_only_the_nearest(name: str, candidates: list[str], hint: str) -> None:
    assert did_you_mean(name, candidates) == hint


def _pod(namespace: str, name: str, workload: str | None = None, kind: str = "Deployment") -> Pod:
    ref = WorkloadRef(kind, namespace, workload) if workload else None
    return Pod(namespace, name, {"app": name}, ("10.0.0.1",), "n1", workload=ref)


NAMES = Names(
    [
        _pod("shop", "frontend-deploy-abc", "frontend-deploy"),
        _pod("shop", "frontend-cache-0", "frontend-cache", "StatefulSet"),
        _pod("shop", "backend-deploy-xyz", "backend-deploy"),
        _pod("shop", "web"),
        _pod("other", "web"),
    ],
    [Service("shop", "web", selector={"app": "web"})],
    ["shop", "other", "empty"],
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("shop/frontend-deploy-abc", "shop/frontend-deploy-abc"),
        ("shop/frontend-deploy", "shop/frontend-deploy-abc"),
        ("shop/frontend-d", "shop/frontend-deploy-abc"),  # the only workload it begins
        ("shop/back", "shop/backend-deploy-xyz"),
        ("backend-deploy", "shop/backend-deploy-xyz"),  # a name alone: any namespace
        ("other/web", "other/web"),
    ],
)
def test_pod_names_every_verb_accepts(text: str, found: str) -> None:
    assert first_pod(NAMES, text).id == found


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (
            "shop/frontend",
            AmbiguousName,
            "'shop/frontend' could be statefulset/shop/frontend-cache, "
            "deployment/shop/frontend-deploy: write the whole name",
        ),
        ("web", AmbiguousName, "'web' is ambiguous: write pod/other/web or pod/shop/web"),
        (
            "shop/frontend-depoy",
            UnknownName,
            "'shop/frontend-depoy': no pod or workload 'frontend-depoy' in namespace shop "
            "(did you mean frontend-deploy?)",
        ),
        ("shpo/web", UnknownName, "'shpo/web': no namespace 'shpo' (did you mean shop?)"),
        ("empty/web", UnknownName, "'empty/web': no pod or workload 'web' in namespace empty"),
        ("nothing", UnknownName, "no pod or workload 'nothing' in any namespace"),
    ],
)
def test_names_that_fail_say_why(text: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as raised:
        first_pod(NAMES, text)
    assert str(raised.value) == message


def test_a_pod_and_a_service_of_one_name_are_never_guessed() -> None:
    with pytest.raises(AmbiguousName) as raised:
        NAMES.lookup("shop", "web", "shop/web")
    assert str(raised.value) == "'shop/web' is ambiguous: write pod/shop/web or svc/shop/web"


@pytest.mark.parametrize(
    ("scope", "admitted"),
    [
        (Scope(), {"shop/a", "shop/b", "other/a"}),
        (Scope("shop"), {"shop/a", "shop/b"}),
        (Scope(None, parse_selector("role=db")), {"shop/b", "other/a"}),
        (Scope("shop", parse_selector("role=db")), {"shop/b"}),
        (Scope("other", parse_selector("role!=db")), set()),
    ],
)
def test_a_scope_is_namespace_and_selector(scope: Scope, admitted: set[str]) -> None:
    pods = [
        Pod("shop", "a", {"role": "web"}),
        Pod("shop", "b", {"role": "db"}),
        Pod("other", "a", {"role": "db"}),
    ]
    assert {p.id for p in pods if scope.admits(p)} == admitted
