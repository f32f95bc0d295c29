"""The words people use to say "stop" and "later", in the seven languages ghostwatch reads.

docs/rules.md "Said stop, or said later". Tables only, as in `phrases`: lower-case regex
fragments, a space is any run of blanks, matched against the lower-cased own text of a
reply (`mail.reply.reply_text`). Precision first: a false opt-out silences a prospect
for good, so every phrase asks something of the reader ("remove me", "don't contact me")
— a bare "unsubscribe" counts only as a line of its own, never inside a sentence such
as "you can unsubscribe here".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Asking to be left alone, where the phrase itself carries its negation.
OPT_OUT = (
    # English
    r"(?:please |pls |kindly )?(?:remove|take|delete|drop) (?:me|my (?:e-?mail|address|name"
    r"|details|contact(?: details)?)) (?:off|from)",
    r"take me off",
    r"unsubscribe me",
    r"(?:please |pls |kindly )unsubscribe",
    r"(?:do not|don't|dont|never|please stop|stop) (?:contact|e-?mail|mail|write to|message|call"
    r"|spam)(?:ing)? (?:me|us)\b(?! (?:before|until|after|unless|if|when|on|at|about|for))",
    r"stop (?:contacting|e-?mailing|mailing|writing to|messaging|spamming|sending) me",
    r"(?:i|we) (?:no longer|do not|don't) (?:wish|want) to (?:be contacted|receive|hear)",
    r"opt me out",
    r"(?:want|would like|wish) to opt[- ]?out",
    r"no more (?:e-?mails|mails|messages) please",
    r"not interested[,.;:!\s-]+(?:please |so |and )?(?:stop|remove|do not|don't|unsubscribe|leave"
    r" me)",
    r"leave me alone",
    # German
    r"(?:nehmen|streichen|entfernen|löschen|loeschen) sie mich (?:bitte )?(?:aus|von)",
    r"(?:entfernen|löschen|loeschen) sie (?:bitte )?(?:mich|meine (?:e-?mail-?adresse|adresse"
    r"|daten|kontaktdaten))",
    r"(?:kontaktieren|schreiben|anschreiben|mailen) sie mich (?:bitte )?nicht mehr",
    r"schreiben sie mir (?:bitte )?nicht mehr",
    r"bitte (?:keine (?:weiteren )?(?:e-?mails|nachrichten|anfragen|kontaktaufnahmen?)|nicht mehr"
    r" (?:kontaktieren|anschreiben|schreiben))",
    r"keine (?:weiteren )?(?:e-?mails|nachrichten|kontaktaufnahmen?) mehr",
    r"(?:aus|von) (?:ihrem |dem |ihrer )?(?:verteiler|mailingliste|liste) (?:nehmen|streichen"
    r"|entfernen|austragen)",
    r"melden sie mich (?:bitte )?ab",
    r"kein interesse[,.;:!\s-]+(?:bitte )?(?:nicht mehr|keine)",
    # French
    r"(?:ne (?:plus )?me (?:contactez|contacter|écrivez|ecrivez|écrire|ecrire|sollicitez"
    r"|solliciter|relancez|relancer) plus)",
    r"(?:merci|prière) de ne plus me (?:contacter|écrire|ecrire|solliciter|relancer|envoyer)",
    r"ne plus (?:être|etre) (?:contacté|contacte|sollicité|sollicite)",
    r"(?:veuillez|merci de|pouvez-vous|pourriez-vous) me (?:retirer|supprimer|désinscrire"
    r"|desinscrire|désabonner|desabonner|rayer)",
    r"(?:retirez|supprimez|enlevez|désinscrivez|desinscrivez|désabonnez|desabonnez|rayez)[- ]moi",
    r"(?:arrêtez|arretez|cessez) de m'(?:écrire|ecrire|envoyer|contacter|solliciter|relancer)",
    # Spanish
    r"no me (?:contacte|contactes|contacten|escriba|escribas|escriban|envíe|envie|envíes|envies"
    r"|envíen|envien) más",
    r"no me (?:contacte|contactes|contacten|escriba|escribas|escriban) mas",
    r"(?:elimíneme|elimineme|elimínenme|eliminenme|elimíname|eliminame|bórreme|borreme|bórrenme"
    r"|quíteme|quiteme|sáqueme|saqueme|sácame|sacame)",
    r"(?:denme|deme|dame|darme) de baja",
    r"(?:dejen|deje|deja) de (?:escribirme|contactarme|enviarme)",
    r"no (?:deseo|quiero) (?:recibir|ser contactad|que me (?:contacte|escriba))",
    # Italian
    r"non (?:mi )?(?:contattate|contattatemi|contattarmi|scrivetemi|scrivermi|scrivete) più",
    r"non (?:mi )?(?:contattate|contattatemi|contattarmi|scrivetemi|scrivermi|scrivete) piu",
    r"(?:rimuovetemi|cancellatemi|toglietemi|rimuovermi|cancellarmi|togliermi) dalla",
    r"(?:smettete|smettetela|smetti) di (?:scrivermi|contattarmi|mandarmi)",
    r"non (?:voglio|desidero) (?:più |piu )?(?:ricevere|essere contattat)",
    # Dutch
    r"(?:neem|haal) (?:mij|me) (?:a\.u\.b\. |aub |alstublieft |svp )?(?:uit|van) (?:uw|je|jullie"
    r"|de) (?:lijst|mailinglijst|bestand|verzendlijst)",
    r"(?:verwijder|schrap) (?:mij|me|mijn (?:e-?mail)?adres)",
    r"(?:neem|neemt) (?:a\.u\.b\. |alstublieft )?geen contact (?:meer )?met (?:mij|me) op",
    r"(?:mail|e-?mail|bel|contacteer|benader) (?:mij|me) (?:a\.u\.b\. |alstublieft |svp )?niet"
    r" meer",
    r"ik wil (?:mij|me) afmelden",
    r"schrijf (?:mij|me) (?:a\.u\.b\. )?uit",
    # Portuguese
    r"não me (?:contate|contatem|contacte|contactem|envie|enviem|escreva|escrevam) mais",
    r"nao me (?:contate|contatem|contacte|contactem|envie|enviem|escreva|escrevam) mais",
    r"(?:remova|removam|retire|retirem|tire|tirem)-me",
    r"me (?:remova|removam|retire|retirem|tire|tirem|descadastre|descadastrem) d",
    r"(?:parem|pare) de me (?:enviar|contatar|contactar|escrever)",
)

# A line that says only "unsubscribe" (in any of the languages): the SMS habit.
BARE_OPT_OUT = re.compile(
    r"^\W*(?:unsubscribe|abmelden|austragen|désinscription|desinscription|désinscrire"
    r"|dar(?:me|se)? de baja|baja|cancellami|disiscrivimi|afmelden|uitschrijven"
    r"|descadastrar|descadastre-me)\W*$",
    re.M,
)

# "Not now": the writer puts the conversation off.
LATER = (
    # English
    r"not (?:right )?now",
    r"not at (?:the|this) (?:moment|time|point)",
    r"not (?:a )?(?:priority|the right time)",
    r"(?:get|come|circle|reach) back (?:to|in touch with) (?:me|us)",
    r"get back in touch",
    r"reach out (?:again|to (?:me|us) (?:again|in|after|around|early|next))",
    r"(?:reach|ping|contact|email|e-mail|call|try) (?:me|us) (?:again|back)",
    r"(?:reach|ping|contact|email|e-mail|call|try|remind) (?:me|us)(?: again)? (?:in|after|around"
    r"|early|next)",
    r"(?:follow up|touch base|reconnect|revisit|check back|catch up|speak|talk)(?: again)?"
    r" (?:with (?:me|us) )?(?:in|after|around|early|next)",
    r"let's (?:talk|speak|chat|reconnect|revisit|touch base|pick (?:this|it) up)",
    r"(?:revisit|pick (?:this|it) (?:back )?up)",
    r"(?:we can|happy to|glad to|could|can we) (?:talk|speak|chat|discuss|look at (?:this|it))",
    # German
    r"(?:derzeit|momentan|aktuell|im moment|zurzeit|zur zeit|jetzt) (?:leider )?(?:nicht|kein)",
    r"melden sie sich (?:bitte |gerne |gern )?(?:wieder|nochmal|noch ?einmal|erneut)?",
    r"kommen sie (?:gerne |gern |bitte )?(?:wieder |nochmal |erneut )?auf (?:mich|uns) zu",
    r"(?:gerne|gern) (?:wieder|nochmal|erneut)",
    r"(?:wieder|nochmal|erneut) (?:melden|kontaktieren|anschreiben|sprechen|ansprechen)",
    r"(?:können|koennen|könnten|koennten) wir (?:gerne |gern )?(?:sprechen|telefonieren|reden)",
    r"(?:gerne|gern) (?:sprechen|telefonieren|reden)",
    r"(?:können|koennen|könnten|koennten) wir",
    # French
    r"pas (?:pour le moment|maintenant|en ce moment|pour l'instant|tout de suite)",
    r"(?:recontactez|relancez|rappelez|revenez)[- ](?:moi|nous|vers moi|vers nous)",
    r"(?:revenir|reprendre contact|me recontacter|me relancer) (?:vers moi )?(?:en|après|apres|au"
    r"|début|debut)",
    # Spanish
    r"(?:ahora|por ahora|en este momento|de momento) no",
    r"(?:vuelva|vuelve|vuelvan) a (?:contactar|escribir|llamar)(?:me|nos)?",
    r"(?:contácteme|contacteme|escríbame|escribame|llámeme|llameme)(?: de nuevo)?",
    r"(?:retomemos|hablemos)",
    # Italian
    r"(?:non|non è) (?:ora|adesso|il momento)",
    r"(?:ricontattatemi|ricontattami|ricontattarmi|risentiamoci|sentiamoci|riscrivetemi"
    r"|riscrivimi)",
    # Dutch
    r"(?:nu|op dit moment|momenteel|op het moment) (?:even )?niet",
    r"(?:neem|neemt) (?:dan |gerne )?(?:opnieuw |weer )?contact (?:met (?:mij|me|ons) )?op",
    r"(?:benader|mail|bel) (?:mij|me|ons) (?:dan )?(?:opnieuw|weer|nog eens)",
    # Portuguese
    r"(?:agora|no momento|neste momento|por enquanto) não",
    r"(?:volte|voltem|entre|entrem) (?:a falar|em contato|em contacto)",
    r"(?:me procure|procure-me|me contate|contate-me|me contacte|contacte-me)(?: novamente| de"
    r" novo)?",
)


def compile_table(phrases: Iterable[str]) -> re.Pattern[str]:
    """`\b`, not a look-behind: Python's matcher is several times slower with one on
    long alternations (`phrases` says the same), and every phrase starts with a letter."""
    body = "|".join(p.replace(" ", r"\s+") for p in phrases)
    return re.compile(rf"\b(?:{body})(?!\w)")


OPT_OUT_RE = compile_table(OPT_OUT)
LATER_RE = compile_table(LATER)

# A negation right before an opt-out phrase turns it around ("don't remove me").
NEGATED_RE = re.compile(
    r"(?:\bnot|n't|\bnever|\bnicht|\bpas|\bno|\bnon|\bniet|\bnão|\bnao|\bnunca|\bnie)\s+\S*\s*\Z"
)

# Time phrases beyond a month name or a date (those come from `datewords`).
QUARTER_NEXT_RE = re.compile(
    r"(?<!\w)(?:next quarter|nächsten quartal|naechsten quartal|nächstes quartal"
    r"|prochain trimestre|trimestre prochain|próximo trimestre|proximo trimestre"
    r"|trimestre que viene|prossimo trimestre|volgend kwartaal|volgende kwartaal)(?!\w)"
)
QUARTER_NAMED_RE = re.compile(r"(?<!\w)(?:q|quartal |kwartaal |trimestre )([1-4])(?!\w)")
QUARTER_ORDINAL_RE = re.compile(
    r"(?<!\w)(first|second|third|fourth|ersten|zweiten|dritten|vierten|premier|deuxième"
    r"|troisième|quatrième|primer|segundo|tercer|cuarto|primo|secondo|terzo|quarto|eerste"
    r"|tweede|derde|vierde|primeiro|terceiro)\s+(?:quarter|quartal|trimestre|kwartaal)(?!\w)"
)
QUARTER_ORDINALS = {
    **dict.fromkeys(("first", "ersten", "premier", "primer", "primo", "eerste", "primeiro"), 1),
    **dict.fromkeys(("second", "zweiten", "deuxième", "segundo", "secondo", "tweede"), 2),
    **dict.fromkeys(("third", "dritten", "troisième", "tercer", "terzo", "derde", "terceiro"), 3),
    **dict.fromkeys(("fourth", "vierten", "quatrième", "cuarto", "quarto", "vierde"), 4),
}
NEXT_MONTH_RE = re.compile(
    r"(?<!\w)(?:next month|nächsten monat|naechsten monat|nächster monat|mois prochain"
    r"|próximo mes|proximo mes|mes que viene|prossimo mese|volgende maand|próximo mês"
    r"|proximo mes)(?!\w)"
)
NEXT_YEAR_RE = re.compile(
    r"(?<!\w)(?:next year|new year|nächsten jahr|naechsten jahr|nächstes jahr|neuen jahr"
    r"|année prochaine|l'an prochain|nouvelle année|próximo año|proximo año|año que viene"
    r"|año nuevo|prossimo anno|anno nuovo|nuovo anno|volgend jaar|nieuwe jaar"
    r"|próximo ano|proximo ano|ano novo)(?!\w)"
)
HOLIDAYS_RE = re.compile(
    r"(?<!\w)(?:after (?:the )?(?:holidays|christmas|new year)|nach den feiertagen"
    r"|nach weihnachten|nach neujahr|après les fêtes|apres les fetes|après noël|apres noel"
    r"|después de (?:las )?fiestas|despues de (?:las )?fiestas|después de navidad"
    r"|dopo le feste|dopo natale|na de feestdagen|na kerst|depois das festas"
    r"|depois do natal)(?!\w)"
)
