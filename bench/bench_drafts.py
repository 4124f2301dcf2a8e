"""Benchmark: `gt draft-invitations` against awdeorio/mailmerge on the same recipients.

For 1,000 and 10,000 people, builds in a temporary folder a registry (.xlsx) where everyone
is a member of one group with a meeting ahead, the same people as a CSV, and a mailmerge
template equivalent to `templates/emails/reunion.fr.eml.j2` (mailmerge has no Babel: the date
text is a CSV column). Then times, each as its own process, from start to exit:

- `gt --sheet registre.xlsx draft-invitations R-BENCH --out DIR`: reads the registry,
  renders, builds each message and its calendar, writes one .eml per person, writes the
  Journal tab;
- `mailmerge --dry-run --no-limit --output-format raw`: renders and prints each message.

Run: `python bench/bench_drafts.py [SIZES...]` (needs the `bench` extra: mailmerge).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/generate.py
from gt_registry.demo import FIRST as DEMO_FIRST
from gt_registry.demo import LAST as DEMO_LAST

SIZES = (1_000, 10_000)
# The demo's own names (scripts/demo.py): one list of fictional people in the project.
FIRST, LAST = DEMO_FIRST, DEMO_LAST

MAILMERGE_TEMPLATE = """\
TO: "{{first_name}} {{last_name}}" <{{email}}>
FROM: Camille Laurent <camille.laurent@convergences.example.org>
REPLY-TO: Camille Laurent <camille.laurent@convergences.example.org>
SUBJECT: GT Action internationale — réunion du {{day}}

Bonjour {{first_name}},

Nous avons le plaisir de vous convier à la prochaine réunion du GT Action internationale, le {{when}}.

Thème de la séance : Préparation des sessions du Forum.

Lieu : Salle Alpha, 1 rue de la République, Paris.
Nous remercions Fondation Alpha de nous accueillir.

Comme toutes les réunions des Groupes de travail, cette séance d'environ deux heures est un temps de réflexion collective, de partage d'expérience et de co-construction entre organisations de tous les horizons, au service des Objectifs de développement durable et d'un monde 3Zéro.

Merci de nous confirmer votre présence en répondant simplement à ce message. L'invitation calendrier est jointe.

Pour rappel, les membres actifs des Groupes de travail, qui ont participé à au moins deux réunions de la saison, bénéficient d'une entrée offerte au Forum Mondial Convergences.

Au plaisir de vous retrouver,

Camille Laurent
Convergences — Groupes de travail
"""
MAILMERGE_SERVER = "[smtp_server]\nhost = localhost\nport = 25\nsecurity = Never\nusername = None\n"


def people(n: int) -> list[dict[str, str]]:
    return [
        {
            "id": f"P-{i:05d}",
            "first_name": FIRST[i % len(FIRST)],
            "last_name": LAST[(i // len(FIRST)) % len(LAST)],
            "email": f"personne.{i}@org{i % 50}.example.org",
            "organisation": f"ORG-{i % 50:03d}",
            "language": "en" if i % 10 == 0 else "fr",
        }
        for i in range(1, n + 1)
    ]


def write_registry(path: Path, rows: list[dict[str, str]], owned: bool = True) -> None:
    from generate import owned_headers
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    orgs = book.create_sheet("Organisations")
    orgs.append(["ID", "Nom", "Type", "Salle disponible", "Adresse"])
    orgs.append(["ORG-000", "Fondation Alpha", "ONG", "oui", "1 rue de la République, Paris"])
    for k in range(1, 50):
        orgs.append([f"ORG-{k:03d}", f"Organisation {k}", "Entreprise", "non", ""])
    sheet = book.create_sheet("Personnes")
    sheet.append(
        ["ID", "Prénom", "Nom", "E-mail", "Organisation", "Groupes", "Langue", "Désinscription"]
    )
    for p in rows:
        sheet.append(
            [
                p["id"],
                p["first_name"],
                p["last_name"],
                p["email"],
                p["organisation"],
                "AI",
                p["language"],
                "non",
            ]
        )
    groups = book.create_sheet("Groupes")
    groups.append(["Code", "Nom", "Référent", "E-mail référent"])
    groups.append(
        [
            "AI",
            "GT Action internationale",
            "Camille Laurent",
            "camille.laurent@convergences.example.org",
        ]
    )
    meetings = book.create_sheet("Réunions")
    meetings.append(
        ["ID", "Type", "Groupe", "Date", "Début", "Fin", "Lieu", "Adresse", "Hôte", "Thème"]
    )
    meetings.append(
        [
            "R-BENCH",
            "Réunion",
            "AI",
            "08/09/2020",
            "9h30",
            "11h30",
            "Salle Alpha",
            "1 rue de la République, Paris",
            "ORG-000",
            "Préparation des sessions du Forum",
        ]
    )
    book.create_sheet("Présences").append(["Réunion", "Personne", "Statut", "Commentaire"])
    # The tool's own tabs, as `gt init` leaves them (a registry in use has them); without
    # them, the run writes its first Journal row: a new tab added to the workbook.
    for name, headers in owned_headers().items() if owned else ():
        book.create_sheet(name).append(headers[0])
    book.save(path)


def write_mailmerge_data(folder: Path, rows: list[dict[str, str]]) -> None:
    (folder / "template.txt").write_text(MAILMERGE_TEMPLATE, encoding="utf-8")
    (folder / "server.conf").write_text(MAILMERGE_SERVER, encoding="utf-8")
    with open(folder / "database.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["email", "first_name", "last_name", "day", "when"])
        writer.writeheader()
        for p in rows:
            writer.writerow(
                {
                    "email": p["email"],
                    "first_name": p["first_name"],
                    "last_name": p["last_name"],
                    "day": "mardi 8 septembre 2020",
                    "when": "mardi 8 septembre 2020, de 9 h 30 à 11 h 30",
                }
            )


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"{command[0]} a échoué ({done.returncode}) : {done.stderr.decode(errors='replace')[-2000:]}"
        )
    return elapsed


def bench(n: int, owned: bool = True) -> tuple[float, float, int]:
    folder = Path(tempfile.mkdtemp(prefix=f"bench-drafts-{n}-"))
    try:
        rows = people(n)
        write_registry(folder / "registre.xlsx", rows, owned)
        write_mailmerge_data(folder, rows)
        ours = timed(
            [
                sys.executable,
                "-m",
                "gt_registry",
                "--sheet",
                "registre.xlsx",
                "--as-of",
                "2020-06-15",
                "draft-invitations",
                "R-BENCH",
                "--out",
                "brouillons",
            ],
            folder,
        )
        drafted = len(list((folder / "brouillons").glob("*.eml")))
        theirs = timed(
            [
                shutil.which("mailmerge") or "mailmerge",
                "--template",
                "template.txt",
                "--database",
                "database.csv",
                "--config",
                "server.conf",
                "--dry-run",
                "--no-limit",
                "--output-format",
                "raw",
            ],
            folder,
        )
        return ours, theirs, drafted
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or list(SIZES)
    print(f"{'drafts':>8}  {'registre':<28}  {'gt (s)':>8}  {'mailmerge (s)':>13}  {'ratio':>6}")
    for n in sizes:
        for owned, label in (
            (True, "onglets de l'outil présents"),
            (False, "1re ligne du Journal"),
        ):
            ours, theirs, drafted = bench(n, owned)
            assert drafted == n, f"{drafted} brouillons au lieu de {n}"
            print(
                f"{n:>8}  {label:<28}  {ours:>8.2f}  {theirs:>13.2f}  {ours / theirs:>6.2f}",
                flush=True,
            )
    print("cible : ≤ 1.0 pour 1 000 brouillons, 1re ligne du Journal comprise")


if __name__ == "__main__":
    main(sys.argv[1:])
