#!/usr/bin/env python3
"""A sharded run across two "hosts": two network namespaces of this machine joined by a veth
pair, each rank in its own, MPI talking TCP over the pair. Run by ctest (test/CMakeLists.txt):

    two_hosts.py MPIRUN FATHOM_COMPILE FATHOM_RUN CHECKPOINT

mpirun starts in the first namespace and launches the second host's daemon through a launch
agent that enters the second namespace (where a cluster would use ssh). The greedy
continuation must equal the same artifact's on one host. Needs root (network namespaces);
elsewhere it says why and exits 77, which ctest reports as skipped.
"""
import os
import stat
import subprocess
import sys
import tempfile

SKIP = 77
PROMPT = "71,273,402,322,146"


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def main():
    mpirun, compile_tool, run_tool, checkpoint = sys.argv[1:5]
    if os.geteuid() != 0:
        print("skipped: network namespaces need root")
        return SKIP
    tag = str(os.getpid() % 100000)
    namespaces = [f"fathom{tag}a", f"fathom{tag}b"]
    links = [f"fth{tag}a", f"fth{tag}b"]
    subnet = f"10.77.{os.getpid() % 250}"
    hosts = [f"{subnet}.1", f"{subnet}.2"]
    made = []
    try:
        for namespace in namespaces:
            try:
                run(["ip", "netns", "add", namespace])
            except (OSError, subprocess.CalledProcessError) as error:
                print(f"skipped: cannot create a network namespace ({error})")
                return SKIP
            made.append(namespace)
        try:
            run(["ip", "link", "add", links[0], "type", "veth", "peer", "name", links[1]])
            for namespace, link, host in zip(namespaces, links, hosts):
                run(["ip", "link", "set", link, "netns", namespace])
                run(["ip", "-n", namespace, "addr", "add", f"{host}/24", "dev", link])
                run(["ip", "-n", namespace, "link", "set", link, "up"])
                run(["ip", "-n", namespace, "link", "set", "lo", "up"])
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"skipped: cannot join the namespaces by a veth pair ({error})")
            return SKIP
        with tempfile.TemporaryDirectory() as folder:
            agent = os.path.join(folder, "netns-rsh")
            with open(agent, "w") as out:
                out.write("#!/bin/sh\n# mpirun's launch agent: host -> its namespace.\n"
                          "host=\"$1\"; shift\ncase \"$host\" in\n")
                for namespace, host in zip(namespaces, hosts):
                    out.write(f"  {host}) ns={namespace} ;;\n")
                out.write("  *) echo \"netns-rsh: unknown host $host\" >&2; exit 1 ;;\nesac\n"
                          "exec ip netns exec \"$ns\" /bin/sh -c \"$*\"\n")
            os.chmod(agent, stat.S_IRWXU)
            artifact = os.path.join(folder, "tp2.fathom")
            run([compile_tool, checkpoint, "--dtype", "fp32", "--max-seq-len", "64", "--tp", "2",
                 "--ep", "2", "-o", artifact, "--quiet"])
            generate = [run_tool, artifact, "--prompt-ids", PROMPT, "--max-new-tokens", "16",
                        "--threads", "1"]
            one_host = run([mpirun, "-np", "2"] + generate, timeout=120).stdout
            two_hosts = run(["ip", "netns", "exec", namespaces[0], mpirun,
                             "--mca", "plm_rsh_agent", agent, "--mca", "btl", "tcp,self",
                             "--mca", "btl_tcp_if_include", f"{subnet}.0/24",
                             "--mca", "oob_tcp_if_include", f"{subnet}.0/24",
                             "-H", f"{hosts[0]}:1,{hosts[1]}:1", "-np", "2"] + generate,
                            timeout=120)
        print(f"one host:  {one_host.strip()}")
        print(f"two hosts: {two_hosts.stdout.strip()}")
        if two_hosts.stdout != one_host or not one_host.strip():
            print("MISMATCH between one host and two hosts", file=sys.stderr)
            print(two_hosts.stderr, file=sys.stderr)
            return 1
        return 0
    except subprocess.CalledProcessError as error:
        print(f"error: {' '.join(error.cmd)} failed: {error.stderr}", file=sys.stderr)
        return 1
    finally:
        for namespace in made:  # deleting a namespace deletes its end of the pair, and so both
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
