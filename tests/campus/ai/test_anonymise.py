"""The local French PII scrubber (campus/ai/anonymise.py) and its ``anonymise`` command.

The spaCy model is loaded once for the whole module (a process-wide singleton); everything
else is fast. No database is needed.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from campus.ai.anonymise import (
    ADDRESS,
    EMAIL,
    IBAN,
    IDENTIFIER,
    NIR,
    PERSON,
    PHONE,
    PLACEHOLDERS,
    anonymise,
    anonymise_many,
    anonymiser_warmup,
)


@pytest.fixture(scope="module", autouse=True)
def _model_loaded_once():
    anonymiser_warmup()


def _gone(output: str, *secrets: str) -> bool:
    lowered = output.lower()
    return all(secret.lower() not in lowered for secret in secrets)


def _kept(output: str, *words: str) -> bool:
    lowered = output.lower()
    return all(word.lower() in lowered for word in words)


# --- Names -------------------------------------------------------------------------------------
def test_first_name_at_start_of_sentence_is_removed():
    out = anonymise("Ludivine prend toujours le temps d'expliquer les nouvelles procédures.")
    assert _gone(out, "Ludivine")
    assert out.startswith(PERSON)
    assert _kept(out, "prend toujours le temps", "nouvelles procédures")


def test_first_name_and_surname_become_one_placeholder():
    out = anonymise("Le responsable, Grégoire Vasseur, relit chaque courrier sensible.")
    assert _gone(out, "Grégoire", "Vasseur")
    assert out.count(PERSON) == 1
    assert _kept(out, "responsable", "courrier sensible")


@pytest.mark.parametrize(
    "text, secret",
    [
        ("M. Delattre arrive toujours en retard aux points d'équipe.", "Delattre"),
        ("Mme Kowalczyk valide les congés sans délai.", "Kowalczyk"),
        ("Madame Perrot a refusé ma demande de formation.", "Perrot"),
        ("Monsieur Grand n'écoute personne en réunion.", "Grand"),
        ("Le Dr Benhamou a validé l'aménagement de mon poste.", "Benhamou"),
        ("Mme de La Fontaine gère la cellule courrier.", "Fontaine"),
        ("Sans l'appui de Mme Le Gall, le projet aurait échoué.", "Gall"),
    ],
)
def test_title_followed_by_a_name_becomes_one_placeholder(text, secret):
    out = anonymise(text)
    assert _gone(out, secret)
    assert PERSON in out
    assert not any(title in out for title in ("M. [", "Mme [", "Madame [", "Monsieur [", "Dr ["))


def test_hyphenated_and_compound_names():
    out = anonymise("Jean-Baptiste et Anne-Laure Dupuis-Morel ont repris le pôle contentieux.")
    assert _gone(out, "Jean-Baptiste", "Anne-Laure", "Dupuis", "Morel")
    assert _kept(out, "pôle contentieux")


def test_names_in_lowercase_and_all_caps():
    out = anonymise("franchement nadège est top mais GUILLOT Thierry ne répond jamais")
    assert _gone(out, "nadège", "GUILLOT", "Thierry")
    assert _kept(out, "franchement", "est top", "ne répond jamais")


def test_surname_written_after_first_name_even_if_unknown():
    out = anonymise("Je remercie Hélène Quennehen pour sa patience pendant ma prise de poste.")
    assert _gone(out, "Hélène", "Quennehen")
    assert _kept(out, "patience", "prise de poste")


def test_unknown_first_name_inside_a_sentence_is_removed():
    out = anonymise("Les consignes de Tugdual changent toutes les semaines.")
    assert _gone(out, "Tugdual")
    assert _kept(out, "consignes", "changent toutes les semaines")


def test_lower_case_unknown_name_where_a_person_is_expected():
    out = anonymise("un grand merci à tugdual pour la formation sur le nouvel outil")
    assert _gone(out, "tugdual")
    assert _kept(out, "un grand merci", "formation sur le nouvel outil")


def test_initial_after_a_first_name_is_removed():
    out = anonymise("Notre cheffe, Morgane B., organise un point chaque lundi.")
    assert _gone(out, "Morgane", "B.")
    assert _kept(out, "cheffe", "point chaque lundi")


def test_elided_preposition_before_a_name_is_restored():
    out = anonymise("Les plannings d'Hakima sont publiés trop tard.")
    assert _gone(out, "Hakima")
    assert "de [une personne]" in out


@pytest.mark.parametrize(
    "text, name",
    [
        ("Avec Rose, on a enfin un planning lisible.", "Rose"),
        ("Pierre est parti sans prévenir personne.", "Pierre"),
        ("Hier, Petit a encore crié sur un collègue.", "Petit"),
        ("Le binôme Claire et Blanc fonctionne bien.", "Blanc"),
        ("Merci à Olivier Blanc pour son écoute.", "Blanc"),
    ],
)
def test_common_word_names_are_removed_when_used_as_names(text, name):
    assert _gone(anonymise(text), name)


@pytest.mark.parametrize(
    "text, words",
    [
        ("Une rose sur chaque bureau le 8 mars, belle attention.", ["rose"]),
        ("On a un petit problème avec le tableau blanc de la salle.", ["petit problème", "blanc"]),
        ("Petit à petit, l'équipe reprend confiance.", ["Petit à petit"]),
        ("Grand merci pour la réorganisation des plannings.", ["Grand merci"]),
        (
            "Les consignes sont claires et la pierre angulaire reste l'accueil.",
            ["claires", "pierre"],
        ),
        ("On voit la vie en rose depuis le nouveau chef.", ["vie en rose"]),
        ("Le bleu marine du nouveau logo ne plaît à personne.", ["bleu marine"]),
    ],
)
def test_common_words_that_are_also_names_are_kept(text, words):
    out = anonymise(text)
    assert PERSON not in out
    assert _kept(out, *words)


def test_management_vocabulary_is_untouched():
    text = (
        "Le Manager et la Direction de la CPAM ont présenté sur Teams le tableau Excel du lundi ; "
        "la CAF, l'Urssaf et la Carsat suivent. Mon N+1 et la DRH en parlent au CSE. RAS, Bravo."
    )
    assert anonymise(text) == text


def test_titles_of_office_are_not_names():
    text = "Madame la Directrice et M. le Directeur adjoint ont annulé le séminaire."
    assert anonymise(text) == text


def test_place_after_a_place_cue_is_generalised():
    out = anonymise("Nous sommes deux à l'antenne de Montbrison, loin du siège.")
    assert _gone(out, "Montbrison")
    assert "[lieu]" in out
    assert _kept(out, "antenne", "loin du siège")


# --- Deny-list (known names) -----------------------------------------------------------------
def test_known_names_match_first_and_last_names_case_and_accent_insensitively():
    out = anonymise(
        "gaelle a tout réorganisé, LEFEVRE n'était pas d'accord et Gaëlle a tenu bon.",
        known_names=["Gaëlle Lefèvre"],
    )
    assert _gone(out, "gaelle", "Gaëlle", "LEFEVRE")
    assert _kept(out, "réorganisé", "pas d'accord", "tenu bon")


def test_known_names_match_whole_words_only():
    out = anonymise(
        "Le royaume des tableaux croisés, c'est le bureau de Roy.", known_names=["Léa Roy"]
    )
    assert _kept(out, "royaume des tableaux croisés")
    assert _gone(out, "de Roy")


def test_known_name_that_is_a_common_word_is_removed_only_as_a_name():
    names = ["Camille Petit"]
    out = anonymise("Petit gère mal les conflits mais il y a un petit mieux.", known_names=names)
    assert _gone(out, "Petit gère")
    assert _kept(out, "un petit mieux")
    kept = anonymise("Un petit problème de planning cette semaine.", known_names=names)
    assert kept == "Un petit problème de planning cette semaine."


def test_login_derived_from_a_known_name_is_removed():
    out = anonymise("Connectez-vous avec cpetit2 ou camille.petit.", known_names=["Camille Petit"])
    assert _gone(out, "cpetit2", "camille.petit")


# --- Structured personal data ------------------------------------------------------------------
@pytest.mark.parametrize(
    "email",
    ["gregoire.vasseur@assurance-maladie.fr", "a.benali+rh@caf.fr", "j.doe@urssaf.fr"],
)
def test_emails(email):
    out = anonymise(f"Écrivez à {email} pour le planning.")
    assert _gone(out, email)
    assert EMAIL in out


@pytest.mark.parametrize(
    "phone",
    [
        "06 12 34 56 78",
        "06.45.78.12.90",
        "0612345678",
        "01 23 45 67 89",
        "+33 6 71 20 48 33",
        "+33612345678",
        "04-72-11-22-33",
        "+33 (0)1 45 67 89 10",
        "0033 6 12 34 56 78",
    ],
)
def test_french_phone_formats(phone):
    out = anonymise(f"Elle m'appelle au {phone} même le dimanche.")
    assert _gone(out, phone)
    assert PHONE in out
    assert _kept(out, "même le dimanche")


def test_short_service_numbers_are_kept():
    text = "La plateforme 3646 et le 3960 sont saturés le lundi."
    assert anonymise(text) == text


@pytest.mark.parametrize(
    "nir",
    [
        "1 85 05 78 006 084 36",
        "185057800608436",
        "1 85 05 78 006 084",
        "1850578006084",
        "2 91 03 2A 012 345 27",
        "2 91 03 2B 012 345",
        "1.85.05.78.006.084.36",
    ],
)
def test_social_security_numbers_with_and_without_spaces_and_key(nir):
    out = anonymise(f"Mon numéro de sécu {nir} a été affiché en réunion.")
    assert _gone(out, nir)
    assert NIR in out
    assert _kept(out, "affiché en réunion")


def test_nir_with_a_wrong_key_is_still_removed():
    out = anonymise("Le NIR 1 85 05 78 006 084 99 circulait dans le mail.")
    assert _gone(out, "1 85 05 78 006 084 99")


def test_iban():
    out = anonymise("Mon IBAN FR76 3000 6000 0112 3456 7890 189 a été envoyé à toute l'équipe.")
    assert _gone(out, "FR76 3000 6000 0112 3456 7890 189")
    assert IBAN in out


@pytest.mark.parametrize(
    "text, secrets",
    [
        (
            "Elle a donné mon adresse, 14 rue des Acacias, à tout le service.",
            ["14 rue des Acacias"],
        ),
        (
            "Courrier envoyé au 3 bis avenue du Général Leclerc, 31000 Toulouse.",
            ["3 bis avenue du Général Leclerc", "31000 Toulouse"],
        ),
        ("J'habite 7 impasse des lilas à côté du site.", ["7 impasse des lilas"]),
        ("Il vit au 22, boulevard Carnot 59800 Lille Cedex.", ["boulevard Carnot", "59800 Lille"]),
    ],
)
def test_postal_addresses(text, secrets):
    out = anonymise(text)
    assert _gone(out, *secrets)
    assert ADDRESS in out
    assert out.count(ADDRESS) == 1


@pytest.mark.parametrize(
    "text, secret",
    [
        ("Je suis le matricule 417523 depuis mon arrivée.", "417523"),
        ("Mon identifiant mleroux n'est toujours pas créé.", "mleroux"),
        ("login: abc123 bloqué depuis lundi", "abc123"),
        ("Mon numéro d'agent 88412 apparaît sur le tableau.", "88412"),
        ("Le compte jmoreau7 a été désactivé par erreur.", "jmoreau7"),
        ("Le dossier n° 4587123 attend une réponse.", "4587123"),
    ],
)
def test_matricules_and_login_ids(text, secret):
    out = anonymise(text)
    assert _gone(out, secret)
    assert "[" in out


def test_identifier_keyword_without_an_identifier_is_kept():
    text = "Mon identifiant ne marche plus et le login est trop lent."
    assert anonymise(text) == text


def test_birth_date_and_age_are_generalised():
    out = anonymise("Née le 14/07/1982, j'ai 43 ans et on me parle de la retraite.")
    assert _gone(out, "14/07/1982", "43 ans")
    assert _kept(out, "retraite")


def test_ordinary_dates_and_durations_are_kept():
    text = "La réunion du 12/03/2024 a duré deux heures ; il a 10 ans de maison."
    assert anonymise(text) == text


# --- Quasi-identifiers ---------------------------------------------------------------------------
def test_quasi_identifiers_are_generalised_without_losing_the_meaning():
    out = anonymise(
        "Depuis mon retour de congé parental et comme je suis la seule femme du pôle, "
        "on m'écarte des dossiers sensibles."
    )
    assert _gone(out, "congé parental", "la seule femme")
    assert _kept(out, "mon retour de congé", "du pôle", "dossiers sensibles")


def test_family_members_and_part_time_day_are_generalised():
    out = anonymise(
        "Quand ma fille a été malade, le manager a accepté que je sois à temps partiel le jeudi."
    )
    assert _gone(out, "ma fille", "le jeudi")
    assert _kept(out, "malade", "le manager a accepté", "temps partiel")


def test_general_remarks_on_leave_and_health_are_kept():
    text = (
        "Les congés maternité ne sont pas remplacés, il faut éviter un burn-out dans l'équipe "
        "et le feedback ne doit pas reposer sur le seul manager."
    )
    assert anonymise(text) == text


def test_common_superlatives_are_kept():
    text = "La seule chose qui compte, ce sont les chiffres ; le plus ancien dossier date de mai."
    assert anonymise(text) == text


# --- Behaviour -----------------------------------------------------------------------------------
def test_placeholders_are_readable_french():
    assert PERSON == "[une personne]"
    assert EMAIL == "[e-mail]"
    assert PHONE == "[téléphone]"
    assert NIR == "[n° de sécurité sociale]"
    assert IDENTIFIER == "[identifiant]"
    assert all(p.startswith("[") and p.endswith("]") for p in PLACEHOLDERS)


def test_text_without_personal_data_is_unchanged():
    text = (
        "Les objectifs sont clairs, les entretiens annuels bien préparés et le télétravail "
        "respecté. Il faudrait juste plus de retours sur la qualité du travail."
    )
    assert anonymise(text) == text


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text(text):
    assert anonymise(text) == text


def test_anonymising_twice_changes_nothing_more():
    texts = [
        "M. Vasseur (06 12 34 56 78, g.vasseur@caf.fr) m'a mise à l'écart depuis mon congé maternité.",
        "Avec Rose et Jean-Marc Le Goff, on est les deux seules à l'antenne de Vienne.",
        "Mon identifiant jdupont2 et mon NIR 1 85 05 78 006 084 36 traînent dans un mail.",
        "Elle habite 9 rue Jean Jaurès, 69100 Villeurbanne, et j'ai 58 ans.",
    ]
    once = anonymise_many(texts)
    assert anonymise_many(once) == once


def test_batch_keeps_order_and_per_text_known_names():
    texts = ["Merci Bérangère.", "Le planning est clair.", "Zoé et Nathan gèrent l'accueil."]
    out = anonymise_many(texts, known_names_list=[["Bérangère Roy"], [], []])
    assert out[1] == "Le planning est clair."
    assert _gone(out[0], "Bérangère")
    assert _gone(out[2], "Zoé", "Nathan")


def test_batch_rejects_a_known_names_list_of_the_wrong_length():
    with pytest.raises(ValueError):
        anonymise_many(["a", "b"], known_names_list=[[]])


def test_five_hundred_short_verbatims_go_through_in_one_batch():
    templates = [
        "{} est à l'écoute mais les réunions sont trop longues.",
        "Merci à {} pour son soutien pendant le pic d'activité.",
        "Les plannings de {} arrivent trop tard, on ne peut pas s'organiser.",
        "Rien à signaler, bonne ambiance dans l'équipe de {}.",
        "Joignable au 06 98 76 54 {:02d}, elle répond même en congés.",
    ]
    names = ["Lucie", "Mathis", "Aurélien", "Inès", "Yasmine", "Bertrand", "Coralie"]
    texts = [
        templates[i % 5].format(i % 100 if i % 5 == 4 else names[i % len(names)])
        for i in range(500)
    ]
    out = anonymise_many(texts)
    assert len(out) == 500
    assert all(_gone(o, *names) for o in out)
    assert all("06 98 76 54" not in o for o in out)


# --- The command ---------------------------------------------------------------------------------
def _run(stdin: io.TextIOBase) -> tuple[list[dict], CommandError | None]:
    stdout = io.StringIO()
    error = None
    try:
        call_command("anonymise", stdin=stdin, stdout=stdout)
    except CommandError as exc:
        error = exc
    return [json.loads(line) for line in stdout.getvalue().splitlines()], error


def test_command_keeps_order_and_extra_keys():
    lines = [
        {"id": "a", "text": "Valérie m'appelle au 06 11 22 33 44.", "campaign": 7},
        {"text": "Le planning est clair.", "id": "b"},
        {"id": "c", "text": "Merci Kévin.", "known_names": ["Kévin Marchal"], "lang": "fr"},
    ]
    stdin = io.StringIO("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    out, error = _run(stdin)
    assert error is None
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert list(out[0]) == ["id", "text", "campaign"] and out[0]["campaign"] == 7
    assert list(out[1]) == ["text", "id"]
    assert out[2]["known_names"] == ["Kévin Marchal"] and out[2]["lang"] == "fr"
    assert _gone(out[0]["text"], "Valérie", "06 11 22 33 44")
    assert out[1]["text"] == "Le planning est clair."
    assert _gone(out[2]["text"], "Kévin")


def test_command_reports_malformed_lines_in_french_and_goes_on():
    stdin = io.StringIO(
        '{"text": "Bonjour Ginette."}\n'
        "pas du json\n"
        '{"texte": "mauvaise clé"}\n'
        "\n"
        '["une", "liste"]\n'
        '{"text": "Merci Gaspard.", "known_names": "Gaspard"}\n'
        '{"text": "Fin du lot."}\n'
    )
    out, error = _run(stdin)
    assert isinstance(error, CommandError)
    assert "4 ligne(s) invalide(s)" in str(error)
    assert len(out) == 6  # the blank line is skipped
    assert _gone(out[0]["text"], "Ginette")
    assert "JSON invalide" in out[1]["error"]
    assert "ligne 3" in out[2]["error"] and "text" in out[2]["error"]
    assert "objet JSON" in out[3]["error"]
    assert "known_names" in out[4]["error"]
    assert out[5] == {"text": "Fin du lot."}


def test_command_reads_utf8_bytes_and_flags_an_invalid_line():
    raw = (
        '{"text": "Félicitations à Anaïs pour l\'accueil."}\n'.encode()
        + b'{"text": "\xff\xfe"}\n'
        + '{"text": "Très bien."}\n'.encode()
    )
    out, error = _run(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    assert isinstance(error, CommandError)
    assert _gone(out[0]["text"], "Anaïs") and "Félicitations" in out[0]["text"]
    assert "UTF-8" in out[1]["error"]
    assert out[2] == {"text": "Très bien."}


# --- The evaluation harness ----------------------------------------------------------------------
def test_ai_eval_scores_a_pii_set(tmp_path):
    rows = [
        {
            "text": "Albane m'a appelé au 06 55 44 33 22.",
            "pii": ["Albane", "06 55 44 33 22"],
            "quasi": [],
            "keep": ["appelé"],
        },
        {"text": "Le planning est clair.", "pii": [], "quasi": [], "keep": ["planning"]},
    ]
    path = tmp_path / "pii.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    stdout = io.StringIO()
    call_command("ai_eval", pii=str(path), skip_coach=True, json=True, check=True, stdout=stdout)
    report = json.loads(stdout.getvalue())["pii"]
    assert report["items"] == 2
    assert report["pii_removed"] == 1.0 and report["keep"] == 1.0
    assert report["total_seconds"] >= report["model_load_seconds"]


def test_ai_eval_check_fails_when_targets_are_missed(tmp_path):
    path = tmp_path / "pii.jsonl"
    row = {"text": "Le planning est clair.", "pii": ["planning"], "quasi": [], "keep": []}
    path.write_text(json.dumps(row), encoding="utf-8")
    with pytest.raises(CommandError, match="Cibles non atteintes"):
        call_command("ai_eval", pii=str(path), skip_coach=True, check=True, stdout=io.StringIO())


def test_ai_eval_explains_a_missing_set_in_french(tmp_path):
    with pytest.raises(CommandError, match="Jeu d’évaluation introuvable"):
        call_command("ai_eval", pii=str(tmp_path / "absent.jsonl"), stdout=io.StringIO())


def test_ai_eval_says_when_the_practice_library_is_not_there(monkeypatch):
    import builtins

    from campus.management.commands.ai_eval import NOT_AVAILABLE, coach_evaluate

    real_import = builtins.__import__

    def no_mallette(name, *args, **kwargs):
        if name == "mallette.search":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mallette)
    result = coach_evaluate([{"question": "Comment déléguer ?", "themes": ["delegation"]}])
    assert result == {"available": False, "reason": NOT_AVAILABLE}
