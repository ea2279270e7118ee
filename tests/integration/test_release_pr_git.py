"""The git side of release PRs: a tree built in a private index (work tree untouched), a
commit on the base, the lease that refuses to overwrite a branch someone else moved."""

from __future__ import annotations

from collections.abc import Callable

from relkit.adapters.git_repo import GitRepo
from tests.fixtures.gitrepo import BuiltRepo

Maker = Callable[..., BuiltRepo]


def _repo(make_repo: Maker) -> tuple[BuiltRepo, GitRepo]:
    built = make_repo(
        [
            {"commit": "feat: a", "files": {"a.txt": "a\n", "run.sh": "#!/bin/sh\n"}},
            {"commit": "fix: b", "files": {"b.txt": "b\n"}},
        ],
        bare_remote=True,
    )
    return built, GitRepo(built.path)


def test_write_tree_changes_only_the_given_files_and_not_the_work_tree(make_repo: Maker) -> None:
    built, repo = _repo(make_repo)
    (built.path / "run.sh").chmod(0o755)
    built.git("update-index", "--chmod=+x", "run.sh")
    built.git("commit", "-q", "-m", "chore: executable")
    base = repo.head()
    tree = repo.write_tree(
        base, {"a.txt": "A\n", "docs/new.md": "new\n", "run.sh": "#!/bin/sh\n#\n"}
    )
    commit = repo.commit_tree(tree, base, "chore(release): v1.0.0", sign=False)
    assert repo.commit_parts(commit) == (tree, (base,), "chore(release): v1.0.0")
    assert built.git("show", f"{commit}:a.txt") == "A\n"
    assert built.git("show", f"{commit}:b.txt") == "b\n"
    assert built.git("show", f"{commit}:docs/new.md") == "new\n"
    assert "100755" in built.git("ls-tree", commit, "run.sh")  # the mode is kept
    assert (built.path / "a.txt").read_text() == "a\n"  # the work tree is untouched
    assert repo.dirty_paths() == [] and repo.head() == base


def test_the_lease_refuses_a_branch_moved_by_someone_else(make_repo: Maker) -> None:
    _built, repo = _repo(make_repo)
    base = repo.head()
    first = repo.commit_tree(repo.write_tree(base, {"v": "1\n"}), base, "one", sign=False)
    assert repo.push_with_lease("origin", first, "relkit/release", expected=None).ok
    # Creating it again "where it must not exist" fails: someone created it first.
    second = repo.commit_tree(repo.write_tree(base, {"v": "2\n"}), base, "two", sign=False)
    assert not repo.push_with_lease("origin", second, "relkit/release", expected=None).ok
    # A stale expectation fails; the right one replaces the branch (not a fast forward).
    assert not repo.push_with_lease("origin", second, "relkit/release", expected=base).ok
    assert repo.push_with_lease("origin", second, "relkit/release", expected=first).ok
    assert repo.remote_ref("origin", "refs/heads/relkit/release") == second
    deleted = repo.delete_remote_branch("origin", "relkit/release", expected=first)
    assert not deleted.ok  # stale: the branch is at `second` now
    assert repo.delete_remote_branch("origin", "relkit/release", expected=second).ok
    assert repo.remote_ref("origin", "refs/heads/relkit/release") is None


def test_a_tag_on_a_given_commit(make_repo: Maker) -> None:
    built, repo = _repo(make_repo)
    first = built.sha(0)
    repo.create_tag_at("v1.0.0", first, "Release v1.0.0", sign=False)
    assert repo.local_tag_target("v1.0.0") == first
    assert built.git("cat-file", "-t", "v1.0.0").strip() == "tag"
    assert repo.push_tag("origin", "v1.0.0").ok
    assert repo.local_tag_target("v9") is None
