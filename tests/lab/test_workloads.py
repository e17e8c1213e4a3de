"""What answers on each pod port: the allow-list, DNS pods, SCTP, --run-commands."""

from __future__ import annotations

import pytest

from netpol.lab.workloads import DNS, ECHO, HTTP_SERVER, plan_pod, recognise_http_server
from netpol.model.objects import Container, ContainerPort, Pod


@pytest.mark.parametrize(
    ("command", "args", "port"),
    [
        (("python3", "-m", "http.server", "5678"), (), 5678),
        (("python", "-m", "http.server"), (), 8000),
        (("/usr/local/bin/python3.11", "-m", "http.server"), ("8080", "--bind", "0.0.0.0"), 8080),
        (("python3",), ("-m", "http.server", "-d", "/srv", "9000"), 9000),
        (("python3", "-m", "http.server", "--cgi", "80"), (), None),
        (("python3", "-c", "import os; os.system('rm -rf /')"), (), None),
        (("sh", "-c", "python3 -m http.server 80"), (), None),
        (("nginx",), (), None),
        ((), (), None),
        # a digit that is no ASCII digit: not a port (it crashed the lab with ValueError)
        (("python3", "-m", "http.server", "²"), (), None),
        # Python's own int() reads Arabic-Indic digits: http.server ٨٠ listens on 80
        (("python3", "-m", "http.server", "٨٠"), (), 80),
        (("python3.١١", "-m", "http.server"), (), None),
    ],
)
def test_only_the_plain_file_server_is_recognised(command, args, port):
    assert recognise_http_server(Container("c", command=command, args=args)) == port


def pod(containers, namespace="app1-ns", labels=None):
    return Pod(
        namespace, "p", labels=labels or {}, ips=("10.244.0.5",), containers=tuple(containers)
    )


def test_the_tutorial_backend_runs_http_server_and_nothing_listens_in_its_place():
    work = plan_pod(
        pod(
            [
                Container(
                    "backend",
                    command=("python3", "-m", "http.server", "5678"),
                    ports=(ContainerPort(5678),),
                )
            ]
        ),
        run_commands=False,
    )
    assert [(c.kind, c.port) for c in work.commands] == [(HTTP_SERVER, 5678)]
    assert work.listeners == ()


def test_an_unknown_command_is_not_run_and_the_lab_listens_instead():
    work = plan_pod(
        pod([Container("db", command=("mysqld", "--skip-grant"), ports=(ContainerPort(3306),))]),
        run_commands=False,
    )
    assert work.commands == ()
    assert [(x.port, x.protocol, x.kind) for x in work.listeners] == [(3306, "TCP", ECHO)]
    assert any("--run-commands" in n for n in work.notes)


def test_run_commands_runs_the_container_command_and_leaves_its_ports_to_it():
    work = plan_pod(
        pod([Container("db", command=("mysqld",), ports=(ContainerPort(3306),))]), run_commands=True
    )
    assert [c.argv for c in work.commands] == [("mysqld",)]
    assert work.listeners == ()


def test_dns_pods_answer_dns_on_53_both_protocols_and_sctp_is_skipped_with_a_note():
    work = plan_pod(
        pod(
            [
                Container(
                    "coredns",
                    ports=(
                        ContainerPort(53, "UDP", "dns"),
                        ContainerPort(9153),
                        ContainerPort(7777, "SCTP"),
                    ),
                )
            ],
            namespace="kube-system",
            labels={"k8s-app": "kube-dns"},
        ),
        run_commands=False,
    )
    assert [(x.port, x.protocol, x.kind) for x in work.listeners] == [
        (53, "TCP", DNS),
        (53, "UDP", DNS),
        (9153, "TCP", ECHO),
    ]
    assert any("SCTP" in n for n in work.notes)


def test_coredns_own_binary_is_never_run_even_with_run_commands():
    # the lab is the cluster DNS; CoreDNS's args would be run as a command of their own
    work = plan_pod(
        pod(
            [
                Container(
                    "coredns",
                    args=("-conf", "/etc/coredns/Corefile"),
                    ports=(ContainerPort(53, "UDP", "dns"), ContainerPort(9153)),
                )
            ],
            namespace="kube-system",
            labels={"k8s-app": "kube-dns"},
        ),
        run_commands=True,
    )
    assert work.commands == ()
    assert [(x.port, x.protocol, x.kind) for x in work.listeners] == [
        (53, "TCP", DNS),
        (53, "UDP", DNS),
        (9153, "TCP", ECHO),
    ]
