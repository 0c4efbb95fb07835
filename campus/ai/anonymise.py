"""Local French PII scrubber for feedback verbatims and coach questions.

Nothing here talks to the network or to an LLM: the text is scrubbed on this machine before it
is stored for a manager to read or sent to any model.

Design choices (why it is built this way)
-----------------------------------------
* Three layers, in decreasing order of certainty, whose spans are merged before replacement:
  1. Regular expressions for structured data (e-mails, French phones, NIR, IBAN, card numbers,
     postal addresses, postcodes + city, matricules and logins introduced by a keyword, URLs
     with a path, IP addresses, birth dates, licence plates). They are precise and cheap, and
     they win over the statistical layer when spans overlap (spaCy tags an e-mail as a place).
  2. Person names: Presidio's ``AnalyzerEngine`` over spaCy's ``fr_core_news_md`` (the issue
     asks for Presidio) gives PER/LOC/MISC entities. That model is noisy on short informal
     text: it tags "Bravo" or "Gros" at the start of a sentence as people and misses many first
     names or labels them as places. So its output is one signal among others, combined per
     token with: a gazetteer of first names and surnames common in France (all generations and
     origins), the caller's deny-list of the team's own names (``known_names``), titles
     (M., Mme, Dr…), the part of speech, the position in the sentence, adjacency to other name
     tokens (a surname after a first name, a particle before a surname) and a lexicon.
  3. Quasi-identifiers, generalised rather than deleted so the sentence keeps its meaning, and
     only when said of the writer: "mon fils" becomes "[un proche]", "mon congé maternité"
     "mon congé [motif retiré]", "étant le seul gars du service" "étant [précision retirée] du
     service", "à temps partiel le mercredi" "à temps partiel [un jour]", "j'ai 58 ans" "j'ai
     [âge]", "depuis 2016" "depuis [année]", a city after a place cue "[lieu]". The same words
     in a general remark ("les congés maternité ne sont pas remplacés") stay.
* The lexicon ("is this an ordinary French word?") comes from the model itself: the
  lemmatiser tables, and the vocabulary of the word vectors, which is case-sensitive and
  ordered by frequency, so "ligne" (frequent in lower case) is a word and "Brieuc" (seen
  capitalised) a proper noun. No word list is downloaded.
* Words that are also names ("Pierre", "Rose", "Petit", "Blanc", "Grand", "Claire"…) are names
  only when used as names: capitalised inside a sentence (and not after an article), after a
  title, next to another name, or at the start of a sentence as the subject of a verb ("Rose
  est partie"). "une rose", "un petit problème", "le tableau blanc" keep their words.
  A capitalised word inside a sentence that is no ordinary word is a name (or a place after a
  place cue); at the start of a sentence it needs more (spaCy's tag, a verb after it). The
  stop-list of management and Sécurité sociale vocabulary (CPAM, Urssaf, Teams, Medialog, N+1,
  lundi…) is never touched, whatever spaCy's NER says.
* The deny-list is matched per token, case- and accent-insensitively, whole words only, first
  and last names separately ("Camille Martin" also removes "camille" and "MARTIN"), with the
  same "used as a name" rule for names that are common words. Logins derived from those names
  (jdupont, j.dupont, dupontj) are removed as identifiers.
* Replacements are readable French placeholders; titles are folded into them ("M. Lefèvre" →
  "[une personne]"), and neighbouring placeholders of the same kind are merged so that a first
  name + surname give one "[une personne]". Placeholders already present are left alone, so the
  function is idempotent.
* The spaCy model and the Presidio engine are loaded once per process, lazily, under a lock;
  ``anonymise_many`` runs ``nlp.pipe`` over a batch. spaCy inference is serialised by a second
  lock: it is CPU-bound and the pipeline is not documented as thread-safe.
* Nothing is fetched from the network: the model is loaded from its installed package (handed
  to Presidio so that Presidio never tries to download one), and ``tldextract``'s public
  suffix list URL is emptied before Presidio is imported (its e-mail recogniser is not used).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

SPACY_MODEL = "fr_core_news_md"
BATCH_SIZE = 64

# --- Placeholders ----------------------------------------------------------------------------
PERSON = "[une personne]"
EMAIL = "[e-mail]"
PHONE = "[téléphone]"
NIR = "[n° de sécurité sociale]"
ADDRESS = "[adresse]"
IDENTIFIER = "[identifiant]"
NUMBER = "[numéro]"
IBAN = "[IBAN]"
CARD = "[n° de carte]"
URL = "[lien]"
IP = "[adresse IP]"
DATE = "[date]"
YEAR = "[année]"
AGE = "[âge]"
PLATE = "[immatriculation]"
PLACE = "[lieu]"
RELATIVE = "[un proche]"
RELATIVES = "[des proches]"
DETAIL = "[précision retirée]"
REASON = "[motif retiré]"
PERSONAL = "[situation personnelle]"
HEALTH = "[des difficultés personnelles]"
ABSENCE = "[absence]"
ABSENCES = "[absences]"
DAY = "[un jour]"

PLACEHOLDERS = (
    PERSON,
    EMAIL,
    PHONE,
    NIR,
    ADDRESS,
    IDENTIFIER,
    NUMBER,
    IBAN,
    CARD,
    URL,
    IP,
    DATE,
    YEAR,
    AGE,
    PLATE,
    PLACE,
    RELATIVE,
    RELATIVES,
    DETAIL,
    REASON,
    PERSONAL,
    HEALTH,
    ABSENCE,
    ABSENCES,
    DAY,
)
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))

# Span priorities: structured data beats names, names beat quasi-identifiers.
_P_REGEX = 3
_P_NAME = 2
_P_QUASI = 1

# --- Word lists ------------------------------------------------------------------------------
# First names common in France among people of working age (born ~1955-2007), all origins.
_FIRST_NAMES = """
adele adeline adrienne agathe agnes aicha aissatou alexandra alexia alice aline alix amandine
amel amelie amina aminata amira anais anastasia andree angele angelina angelique anissa anna
annabelle anne annick annie anouk antoinette apolline ariane arlette armelle asma assia astrid
aude audrey augustine aurelia aurelie axelle awa barbara beatrice benedicte bernadette berangere
bertille betty binta blandine brigitte camille candice capucine carine carla carmen carole
caroline cassandra catherine cecile celia celine chaima chantal charlene charline charlotte
chloe christelle christiane christine claudette claudine clara clarisse clementine clotilde
colette coline coralie corinne cyrielle cynthia dalila daniele danielle delphine denise diane
dominique dorothee dounia edith eleonore elena eliane elisa elise elisabeth elizabeth ella elodie
eloise elsa emeline emilie emma emmanuelle enora estelle eugenie eva evelyne fabienne fadila
farida fatiha fatima fatou fatoumata floriane florence francine francoise frederique gaelle
genevieve georgette geraldine ghislaine gisele giulia gwenaelle gwendoline hafida hajar halima
hanane hayat helene heloise hind hortense houria huguette ibtissem ikram ilham imane ines ingrid
irene isabelle jacqueline janine jeanine jeanne jennifer jessica jocelyne johanna josette josiane
josephine judith julia julie juliette justine kadiatou karima karine katia kelly kenza khadija
laetitia lalie lamia latifa laura laure laurence laurie lea leane leila lena leonie liliane
lilou lina linda lisa lise loubna louisa louise luce lucette lucie lucienne ludivine lydia lydie
maeva maelle maelys magali malika manon marceline marcelle margaux margot maria mariam mariama
marianne marie-france marina marine marion marjorie marlene martine maryline maryse maryvonne
mathilde maud maude maureen melanie melissa meriem micheline michele michelle mireille monique
morgane mounia muriel murielle myriam nadege nadia nadine nadjet naima najat nancy naomie natacha
nathalie nawal nelly nesrine nicole nina noemie nora nolwenn oceane odette odile oriane ophelie
oumou pascale patricia paula paule paulette pauline perrine priscilla rachel rachida rebecca
regine renee rokia romane rosalie roselyne rosine sabine sabrina safia salima salma samia samira
sandra sandrine sara sarah severine sihem siham simone solange solene sonia sophie soraya souad
stephanie suzanne sylvette sylviane sylvie tatiana thais therese tiphaine valentine valerie
vanessa veronique victoria virginie viviane wafa yamina yasmina yasmine yolande yvette yvonne
zahra zineb zoe zohra laila leonor ludmila marthe noelle odette claire-lise soizic maiwenn
rozenn katell gwenola anne-laure nolwen gaelle-anne oumaima nour rania yousra assa coumba mariam
kheira nassima wassila fouzia habiba jamila malak hawa ndeye khady astou awa mame
aaron abdel abdelaziz abdelkader abdallah abdoulaye abdou achille adam adrien ahmed alain alan
alban albert alexandre alexis alfred ali alix alphonse amadou amaury ambroise amine anatole andre
andrea anthony antoine antonio armand arnaud arsene arthur augustin aurelien axel ayoub aziz
bakary bastien baptiste benjamin benoit bernard bertrand bilal boris boubacar brahim bruno
bryan camille carlos cedric charles charly christian christophe claude clovis corentin cyril
cyrille damien daniel david denis didier dimitri djamel dominique driss dylan edgar edouard
elias eliott emile emilien emmanuel enzo eric erwan etienne ethan eugene evan fabien fabrice
farid fernand fernando florent florian francis francisco franck francois frederic gabin gabriel
gael gaetan gaspard gauthier geoffrey georges gerald gerard germain ghislain gilbert gilles
gregoire gregory guillaume gustave guy habib hakim hamid hamza harold hassan henri herve hicham
hocine hubert hugo hugues ibrahim ibrahima idriss ilyes ilyas isaac ismael issa ivan jacky
jacques jamal james jean-baptiste jean-charles jean-christophe jean-claude jean-francois
jean-jacques jean-louis jean-luc jean-marc jean-marie jean-michel jean-noel jean-paul
jean-philippe jean-pierre jean-yves jeremie jeremy jerome jimmy joachim joel johan john
johnny jonathan jordan jose joseph josue jules julien justin kamel karim kevin khaled khalid
killian kylian lahcen lamine laurent leo leon leonard lilian lionel loic loris louis luc luca
lucas lucien ludovic maël mael mahamadou malik mamadou manuel marcel marius mathias mathieu
mathis matheo matthieu maurice maxence maxime mehdi michael michel mickael miguel mohamed
mohammed morgan moussa mourad mustapha nabil nacer nassim nathan nathanael nicolas noa noah
noam nordine norbert noureddine olivier omar oscar ousmane pablo pascal patrice patrick paul
philippe quentin rachid rafael raphael raymond redouane regis remi remy renaud rene richard
riad robert robin rodolphe rodrigue roger roland romain romuald ronan rudy ruben said saad
salim sami samir samuel sebastien serge simon slimane sofiane souleymane stanislas stephane
steeve steve steven sylvain teddy thibaud thibault thibaut thierry thomas tim timothee
titouan tom tony tristan ulysse valentin valery victor vincent virgile walid wilfried william
xavier yacine yann yannick yanis yassine yoann yohan youcef younes youssef yves yvon zakaria
zinedine ali-ahmed abdelhak abdelkrim abderrahmane adama aliou alassane bachir boualem cheikh
djibril el-hadj hadj idrissa ismail karamoko lassana mahmoud mamoudou modou moctar oumar
samba seydou sekou siaka tidiane yaya joao paulo pedro rui sergio giovanni giuseppe marco
mario salvatore nikola stefan igor sacha wei minh tuan thanh huy khanh linh hoa huong trang
thuy ngoc phuong quang vinh
pierre rose claire marine jade ambre blanche aurore constance victoire capucine olive prune
violette perle colombe celeste clemence patience prudence esperance grace fleur cerise iris
melodie marguerite madeleine reine ange aime aimee desire desiree fidele modeste felicite marc
jean max line mai long duc lamine anis clement constant noel pascal marie louis charles
jacques gilles adam manuel romain romane martin
manu steph seb flo nico fred alex chris isa caro nath ludo greg vince xav fab cathy sandy
katy jojo gege dede babeth
"""

# Surnames common in France (INSEE frequency lists, regional and immigration names).
_SURNAMES = """
martin bernard thomas petit robert richard durand dubois moreau laurent simon michel lefebvre
leroy roux david bertrand morel fournier girard bonnet dupont lambert fontaine rousseau vincent
muller lefevre faure andre mercier blanc guerin boyer garnier chevalier francois legrand gauthier
garcia perrin robin clement morin nicolas henry roussel mathieu gautier masson marchand duval
denis dumont marie lemaire noel meyer dufour meunier brun blanchard giraud joly riviere lucas
brunet gaillard barbier arnaud martinez gerard roche renard schmitt roy leroux colin vidal
caron picard roger fabre aubert lemoine renaud dumas lacroix olivier philippe bourgeois pierre
benoit rey leclerc payet rolland leclercq guillaume lecomte lopez jean dupuy guillot hubert
berger carpentier sanchez dupuis moulin louis deschamps huet vasseur perez boucher fleury royer
klein jacquet adam poirier marty aubry guyot carre charles renault charpentier menard maillard
baron bertin bailly herve schneider fernandez collet leger bouvier julien prevost millet perrot
daniel cousin germain breton besson langlois remy pelletier leveque perrier leblanc barre lebrun
marchal weber mallet hamon boulanger jacob monnier michaud rodriguez guichard gillet etienne
grondin poulain tessier chevallier collin chauvin bouchet gay lemaitre benard marechal humbert
reynaud antoine hoarau perret barthelemy cordier pichon lejeune gilbert lamy delaunay pasquier
carlier laporte lefort legros lenoir lebon lemonnier letellier levasseur lemercier lecocq
leconte lecoq lefrancois lelievre leduc ledoux legendre lesage letourneau maury mauger michon
millot mollet navarro ollivier pages parent pineau raynaud rigaud roques rossi sabatier tissot
vallet verdier vial voisin wolff duchemin duhamel dujardin dumoulin dupre dufresne delmas
delorme devaux didier drouet dubreuil duclos duret favre ferrand ferry fortin foucher fouquet
gaudin geoffroy gervais gilles girardin girault godard gomez goncalves gosselin granger grenier
gros guibert guillet guillon guyon hamel hebert imbert jacques jourdan joubert jouve labbe lacoste
laroche lavigne lebeau leblond lefranc lelong leon martineau masse mathis maurice morvan pinel
rault raymond regnier rigal rouger savary texier tournier valentin vallee weiss grand lefevre
gonzalez hernandez ferreira pereira rodrigues martins fernandes lopes gomes alves santos costa
oliveira ribeiro teixeira carvalho almeida nunes moreira sousa silva cardoso pinto marques
mendes dias nguyen tran pham huynh hoang phan dang bui ngo duong truong chen wang zhang liu yang
huang zhou benali benaissa benamar benyahia bensaid boudjema bouaziz bouzid belkacem belaid
brahimi haddad hamdi khelifi mansouri meziane mokrani rahmani saidi slimani touati ziani amrani
alaoui bennani cherif djebbar ferhat gharbi hamidi hammoudi kaci lounis messaoudi nasri ouali
rezgui taleb yahiaoui zidane benmansour benkhelifa bouchard boukhari chaouch dahmani guerfi
hadjadj laribi maarouf medjahed mekki ouhab saadi sahraoui tahiri zerrouki diallo traore diop
ndiaye n'diaye diarra camara cisse sow fofana keita konate kone toure sylla diakite coulibaly
sissoko doumbia kouassi kouadio dembele sarr faye gueye niang seck mendy gomis goff gall bihan
guen corre floch gac borgne meur bris berre kerbrat tanguy guillou riou jaouen quere moal
hascoet salaun cadiou madec fischer hoffmann zimmermann kieffer koehler wagner becker roth
walter keller braun frey kuntz bauer jung haas richter schwartz santoni mattei giordano russo
romano ferrari esposito colombo ricci greco lombardi moretti barbieri conti caruso rizzo diaz
ruiz moreno munoz alvarez romero torres dominguez vazquez ramos serrano blanco molina morales
ortega delgado castro ortiz rubio iglesias medina garrido castillo lozano guerrero prieto
mendez herrera flores lemarchand dupont-martin lemaire bourdon besnard bousquet bouvet brunel
chapuis charrier chauvet clerc couturier cuvelier delattre delahaye delannoy deneuve descamps
dhont dubus ducrocq dupire flament foulon hennebert lagache lebas lefrancq leleu lemaire lepers
leroux mahieu morel pruvost vandamme verhaeghe wattier
"""

# Names that are also everyday French words: removed only when used as names.
_COMMON_WORD_NAMES = """
pierre rose petit blanc grand claire marine jade ambre blanche aurore constance victoire capucine
olive prune violette perle colombe celeste clemence patience prudence esperance grace fleur
cerise iris melodie marguerite madeleine reine ange aime aimee desire desiree fidele modeste
felicite marc jean max line mai long duc lamine anis clement constant noel pascal franc juste
martin roux brun noir fontaine moulin boucher berger meunier marchand mercier charpentier
chevalier boulanger bonnet carre barre cousin baron renard colin picard breton germain chauvin
poulain gay collet leger masse roche riviere barbier gaillard bourgeois parent voisin grenier
gros marechal lion loup rossignol pigeon salmon page rey roy marin sage louis charles
jacques gilles marie vidal adam manuel pages marques morales romain romane vallee
"""

# Capitalised words that are never people: management and Sécurité sociale vocabulary, tools,
# calendar words. spaCy's NER tags several of them PER or LOC in feedback.
_STOP_WORDS = """
manager manageur manageuse managers management managerial directeur directrice direction
directions dg dga drh rh grh rrh responsable responsables chef cheffe chefs adjoint adjointe
president presidente maire prefet ministre superviseur superviseure coordinateur coordinatrice
equipe service pole cellule unite departement agence antenne accueil siege caisse caisses cpam
caf urssaf carsat msa cnam cnaf cnav acoss ucanss cgss ugecam ars cramif cti dsi cpg cnracl
securite sociale secu assurance maladie retraite famille allocations familiales ameli amelipro
france travail pole emploi mdph medialog progres pn orphee cristal nims galaxie arpege synergie
diademe gedi sngi ged teams excel word outlook powerpoint onenote sharepoint yammer zoom webex
skype lync slack trello jira chrome firefox windows office microsoft google gmail whatsapp
klaxoon intranet internet visio visioconference covid covid-19 rtt cet cdd cdi cse chsct cssct
qvt qvct rps gpec gepp eae eap n+1 n+2 pfs pfp rgpd cnil ok ras top super bravo merci bonjour
bonsoir cordialement salut bref enfin voila lundi mardi mercredi jeudi vendredi samedi dimanche
janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre noel paques
toussaint dieu madame monsieur mademoiselle messieurs mesdames mme mlle mr dr pr back-office
front-office open-space flex-office feedback reporting process meeting team planning dashboard
kick-off brainstorming coaching burn-out turnover daily weekly one-to-one onboarding bien-etre
teletravail sirh tableau tableaux je tu il elle on nous vous ils elles moi toi lui eux
pourquoi comment quand mais donc alors ensuite puis aussi enfin sinon pourtant cependant
grand-est grand-ouest hauts-de-france ile-de-france occitanie bretagne normandie
nouvelle-aquitaine auvergne-rhone-alpes provence-alpes-cote-d'azur paca europe france
francais francaise anglais dom tom drom flex office branche boss leader leadership job call
mail mails email e-mail slide slides debrief staff sympa nickel bof hyper copil codir comex
rdv ij cmu css ame ald rsa apl aah paje asf dsn grc gaf cpts ehpad pmi cnafmail
qu jusqu lorsqu puisqu quoiqu presqu quelqu aujourd
orga com comm prio dispo perso pro info infos admin compta appli presentiel distanciel
hybride manag mgmt resp respo collab collabs recap memo reco nb ps pj cf perf perfs dispos
reu amelio sugg propo coord mngt mgt concl motiv obs rq cdt lean scrum kanban agile linkedin
doctolib moodle uber airbnb tchap resana osmose lucca zendesk glpi jira confluence notion
open space desk coworking senat pentecote assomption ascension armistice
ramadan aid hanoucca
"""


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


_PARTICLES = _words(
    "de du des d le la les van von der den da das dos di del della el al ben bin ibn ait mac mc ter ten y"
)
_CAP_PARTICLES = _words("le la de du des da dos das di del van von el al ben ait")
_DETERMINERS = _words(
    "le la les l un une des du au aux ce cet cette ces mon ma mes ton ta tes son sa ses notre "
    "nos votre vos leur leurs quel quelle"
)
# Common-word first names that are adjectives first: "Modeste : …" is not a person.
_ADJECTIVE_NAMES = _words(
    "aime aimee desire desiree fidele modeste constant clement juste long celeste"
)
_CLITICS = _words("nous vous me m te t lui leur ne n se s l y en")
_TITLES = _words("m mr mme mmes mlle mm madame monsieur mademoiselle dr docteur pr professeur")
# Prepositions and nouns that announce a place name ("l'antenne de Vienne", "arrivé de Lyon").
_PLACE_PREPOSITIONS = _words("a au aux en de d du des vers sur pres depuis dans")
# Words after which a lower-case proper noun is a person: "merci à kenza", "avec tugdual".
_PERSON_CUES = _words(
    "avec a merci par pour chez selon et ou contre entre sauf voir appele appelee nomme nommee "
    "collegue collegues manager manageur manageuse chef cheffe responsable binome madame monsieur "
    "mme mlle bravo bonjour salut"
)
# Prepositions that announce a place rather than a person ("en Bourgogne", not "à Hakima").
_PLACE_ONLY = _words("en au aux vers depuis dans")
# A word that is not in the list of places needs a noun cue: "Merci à Hakima" is a person.
_PLACE_NOUNS = _words(
    "antenne antennes site sites agence agences caisse ville region departement accueil centre "
    "plateforme cpam caf urssaf carsat msa cgss habite habites vit vivent originaire mute mutee "
    "arrive arrivee venu venue vient viens sud nord est ouest secteur bassin commune direction "
    "delegation"
)

# French places that identify a site (regions, departments, main cities): generalised as
# quasi-identifiers when they follow a place cue.
_PLACES = """
ain aisne allier ardeche ardennes ariege aube aude aveyron calvados cantal charente correze
corse creuse dordogne doubs drome essonne eure finistere gard gers gironde herault ille-et-vilaine
indre isere jura landes loire loiret lot lozere manche marne mayenne meurthe-et-moselle meuse
morbihan moselle nievre nord oise orne pas-de-calais puy-de-dome pyrenees-atlantiques rhone
saone-et-loire sarthe savoie haute-savoie seine-maritime seine-et-marne yvelines somme tarn
var vaucluse vendee vienne haute-vienne vosges yonne val-d'oise val-de-marne hauts-de-seine
seine-saint-denis guadeloupe martinique guyane reunion mayotte alsace lorraine picardie
bourgogne champagne limousin poitou auvergne provence savoie paris marseille lyon toulouse
nice nantes strasbourg montpellier bordeaux lille rennes reims toulon grenoble dijon angers
nimes villeurbanne clermont-ferrand aix-en-provence brest tours amiens limoges annecy perpignan
metz besancon orleans rouen mulhouse caen nancy argenteuil roubaix tourcoing avignon poitiers
pau calais dunkerque la-rochelle valence cergy evry creteil bobigny nanterre versailles
colmar troyes chartres laval quimper vannes lorient niort angouleme bayonne tarbes albi rodez
cahors agen montauban carcassonne beziers chambery gap digne auxerre nevers bourges blois
chateauroux gueret tulle aurillac le-puy-en-velay mende privas annonay saint-etienne
saint-denis saint-brieuc saint-nazaire saint-quentin saint-malo cherbourg evreux beauvais
laon charleville-mezieres chaumont epinal belfort vesoul lons-le-saunier macon bourg-en-bresse
arras boulogne-sur-mer douai valenciennes lens cambrai maubeuge afrique asie amerique maghreb
algerie maroc tunisie senegal mali cameroun portugal espagne italie allemagne belgique suisse
turquie vietnam chine antilles outre-mer moulins bar-le-duc mont-de-marsan foix alencon saint-lo
perigueux ajaccio bastia basse-terre fort-de-france cayenne mamoudzou melun pontoise auch
roche-sur-yon chalons-en-champagne mans epinal mende montlucon vichy roanne villefranche
thionville saint-germain-en-laye boulogne-billancourt montreuil vitry-sur-seine aubervilliers
"""


def _fold(text: str) -> str:
    """Lower case without accents, for case- and accent-insensitive comparisons."""
    text = text.replace("’", "'").replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


def _word_set(block: str) -> frozenset[str]:
    return frozenset(_fold(w) for w in block.split())


FIRST_NAMES = _word_set(_FIRST_NAMES)
SURNAMES = _word_set(_SURNAMES)
COMMON_WORD_NAMES = _word_set(_COMMON_WORD_NAMES)
STOP_WORDS = _word_set(_STOP_WORDS)
PLACES = _word_set(_PLACES)
_ALL_NAMES = FIRST_NAMES | SURNAMES

# --- Regular-expression layer ----------------------------------------------------------------
_UP = "A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸÆŒ"
_LOW = "a-zàâäçéèêëîïôöùûüÿæœ"
_WORD_RE = re.compile(rf"(?:[NnOo]['’](?=[{_UP}]))?[^\W\d_]+(?:[-‐][^\W\d_]+)*")
_DAYS = "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
_MONTHS = (
    "janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre"
)

_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[\w.+-]+(?:@|\s?[\[(]\s?(?:at|arobase)\s?[\])]\s?)[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])"
)
_URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'\])]+", re.IGNORECASE)
_IP_RE = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
)
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?[1-9]|0[1-9])(?:[\s.\-/]?\d{2}){4}(?!\d)"
    r"|(?<![\w+])(?:\+|00)\s?(?!33)\d{2,3}(?:[\s.\-]?\d){6,12}(?!\d)"
)
_EXTENSION_RE = re.compile(
    r"\b(?:poste|ligne\s+directe|ext\.?|extension)\s*(?:n°\s*)?:?\s*(\d{3,5})\b", re.IGNORECASE
)
# NIR: sex, year, month, department (2A/2B for Corsica), commune, order, optional key; any single
# separator between digits. Validated in _nir_ok.
_NIR_RE = re.compile(r"(?<![\w+.,/])[1-478](?:[ .\-]?(?:\d|[AaBb](?=[ .\-]?\d))){12,14}(?![\w])")
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_CARD_RE = re.compile(r"(?<![\d])(?:\d{4}[ \-]?){3}\d{4}(?![\d])")
_PLATE_RE = re.compile(r"\b[A-Z]{2}[ \-]\d{3}[ \-][A-Z]{2}\b")
_LONG_NUMBER_RE = re.compile(r"(?<![\w.,])\d{7,}(?![\w])")
_BIRTH_RE = re.compile(
    rf"\b(?:n[ée]e?s?|date\s+de\s+naissance|DDN)\s*:?\s*(?:le\s+)?"
    rf"(?P<d>\d{{1,2}}(?:er)?[\s/.\-](?:\d{{1,2}}|{_MONTHS})[\s/.\-](?:19|20)?\d{{2}}|en\s+(?:19|20)\d{{2}})",
    re.IGNORECASE,
)
_OLD_DATE_RE = re.compile(r"\b\d{1,2}[/.\-]\d{1,2}[/.\-]19\d{2}\b")
_STREET_TYPES = (
    r"rue|avenue|av\.|bd|boulevard|chemin|allée|allee|impasse|place|pl\.|quai|route|rte|cours|square"
    r"|passage|sentier|voie|rond-point|esplanade|parvis|cité|cite|faubourg|fbg|promenade|montée"
    r"|traverse|résidence|residence|lotissement|hameau|lieu-dit|villa|domaine|clos|mail|ruelle"
    r"|venelle|chaussée|square|bâtiment|batiment|bât\.|bat\."
)
_STREET_NUM_RE = re.compile(
    rf"\b\d{{1,4}}(?:\s?(?:bis|ter|quater|[A-Da-d])\b)?,?\s+(?:{_STREET_TYPES})(?=[\s,.])",
    re.IGNORECASE,
)
_STREET_BARE_RE = re.compile(
    r"\b(?:rue|avenue|boulevard|bd|impasse|allée|quai|square)\s+"
    rf"(?=(?:(?:de\s+la|de\s+l['’]|des|du|de|d['’]|la|le|les|l['’])\s*)?[{_UP}0-9])"
)
_STREET_CONT_RE = re.compile(
    rf"\s*(?:(?:de\s+la|de\s+l['’]|des|du|de|d['’]|la|le|les|l['’]|aux|au|sur|sous|en|et)\s*)*"
    rf"(?:[{_UP}][\w'’\-]*|\d{{1,4}}(?:er)?)"
)
_STREET_FIRST_RE = re.compile(
    rf"\s*(?:(?:de\s+la|de\s+l['’]|des|du|de|d['’]|la|le|les|l['’]|aux|au)\s*)*[\w'’\-]*[{_LOW}{_UP}][\w'’\-]*"
)
_POSTCODE_CITY_RE = re.compile(
    rf"(?<![\w,.])(?:F-)?(?:0[1-9]|[1-8]\d|9[0-8])\d{{3}}\s+[{_UP}][\w'’\-]*"
    rf"(?:[ \-](?:(?:sur|sous|lès|les|le|la|en|de|du|des|aux|au)[ \-])?[{_UP}][\w'’\-]*){{0,3}}"
    r"(?:\s+C[ée]dex(?:\s*\d{1,2})?)?"
)
_POSTCODE_KEYWORD_RE = re.compile(
    r"\b(?:code\s+postal|CP)\s*:?\s*(\d{5})\b|\b(?:BP|CS|boîte\s+postale)\s*\d{2,6}\b"
)
_ID_KEYWORDS = (
    r"matricule|n°\s*(?:d['’])?agent|num[ée]ro\s+(?:d['’])?agent|identifiant(?:\s+(?:de\s+connexion|windows|ameli))?"
    r"|id|login|user(?:name|\s*id)?|nom\s+d['’]utilisateur|pseudo|code\s+(?:agent|utilisateur)"
    r"|(?:n°|num[ée]ro)\s+(?:de\s+)?badge|badge|(?:n°|num[ée]ro)\s+(?:d['’])?allocataire|allocataire"
    r"|(?:n°|num[ée]ro)\s+(?:de\s+)?dossier|(?:n°|num[ée]ro)\s+(?:de\s+)?contrat|(?:n°|num[ée]ro)\s+fiscal"
    r"|(?:n°|num[ée]ro)\s+(?:de\s+)?s[ée]cu(?:rit[ée]\s+sociale)?|NNI|NIR|compte"
)
_ID_RE = re.compile(
    rf"\b(?:{_ID_KEYWORDS})\b(?:\s+(?:est|était|c['’]est|:))?\s*(?:[:=#]|n°|no\.?)?\s*"
    r"(?P<v>\d{1,3}(?:\s\d{3})+|[A-Za-z0-9][A-Za-z0-9._\-]*[A-Za-z0-9]|\d)(?![\w\[])",
    re.IGNORECASE,
)
_NUMBER_SIGN_RE = re.compile(r"\bn°\s*(\d{5,})\b", re.IGNORECASE)
# "nos matricules (le mien : 215478)": a number a few words after an identifier keyword.
_ID_NEAR_RE = re.compile(
    r"\b(?:matricules?|identifiants?|logins?|badges?|allocataires?|n°\s+d['’]agent)\b"
    r"[^.!?\n\d\[]{0,30}?(?<![\w])(?P<v>[A-Za-z]{0,3}\d{5,8})(?![\w])(?!\s*(?:€|euros?|%|ans\b))",
    re.IGNORECASE,
)
_LOGIN_RE = re.compile(r"(?<![\w@.])[a-z]{3,}[a-z.]*\d{1,4}(?![\w@])")
_LOGIN_EXCEPTIONS = frozenset(["covid", "covid19", "win", "office", "mp", "h", "j", "m"])
_HANDLE_RE = re.compile(r"(?<![\w@])@[A-Za-z][\w.\-]{2,}")

# --- Quasi-identifier layer ------------------------------------------------------------------
_RELATIVE_NOUNS = (
    r"fils|fille|mari|femme|épouse|epouse|époux|epoux|conjoint|conjointe|compagnon|compagne"
    r"|enfant|bébé|bebe|père|pere|mère|mere|papa|maman|frère|frere|sœur|soeur|grand-mère|grand-mere"
    r"|grand-père|grand-pere|belle-mère|belle-mere|beau-père|beau-pere|petit-fils|petite-fille"
    r"|neveu|nièce|niece|oncle|tante|fiancé|fiancée|ami|amie|copain|copine"
)
_RELATIVE_RE = re.compile(
    rf"\b(?:mon|ma)\s+(?:{_RELATIVE_NOUNS})\b(?!\s+de\s+(?:ménage|travail|bureau))",
    re.IGNORECASE,
)
_RELATIVES_RE = re.compile(
    r"\b(?:mes)\s+(?:enfants|parents|fils|filles|petits-enfants|beaux-parents|proches)\b",
    re.IGNORECASE,
)
# Quasi-identifiers are generalised only when they are said of the writer (or of a named
# person): "mon congé maternité", "j'ai eu un cancer", "je suis la seule femme du pôle". The same
# words in a general remark ("les congés maternité ne sont pas remplacés", "éviter un burn-out
# dans l'équipe") carry the meaning of the text and stay.
_WHO = (
    r"(?:je\s+suis|j['’]étais|j['’]etais|tu\s+es|il\s+est|elle\s+est|c['’]est|étant|etant|être|etre"
    r"|moi\s+qui\s+suis|en\s+tant\s+que|on\s+est|on\s+était|nous\s+sommes|comme\s+je\s+suis)"
)
_LEAVE_RE = re.compile(
    r"\b(?:(?:mon|ma|mes|son|sa|ses)\s+(?:(?:retour|reprise|départ|depart|fin|début|debut)\s+"
    r"(?:de\s+|d['’]|du\s+|en\s+))?"
    r"|(?:je\s+suis|j['’]étais|j['’]etais|je\s+serai|je\s+pars|je\s+suis\s+partie?|je\s+reviens"
    r"|je\s+suis\s+revenue?|suis\s+rentrée?|de\s+retour|j['’]ai\s+pris|j['’]ai\s+eu)\s+"
    r"(?:en\s+|de\s+|d['’]|du\s+|un\s+)?)"
    r"congés?\s+(?:de\s+)?(?P<r>maternité|maternite|paternité|paternite|parental|d['’]adoption"
    r"|adoption|de\s+naissance|longue\s+maladie|longue\s+durée|pathologique)\b",
    re.IGNORECASE,
)
_MY_ABSENCE_RE = re.compile(
    r"\b(?P<p>mon|mes)\s+(?P<a>arrêts?|arrets?)(?:\s+(?:maladie|de\s+travail))?\b",
    re.IGNORECASE,
)
_HEALTH_RE = re.compile(
    r"\b(?:j['’]ai\s+eu|j['’]avais|j['’]ai|avec|à\s+cause\s+de|pour)\s+"
    r"(?P<h>(?:des|mes|de)\s+(?:gros\s+|graves\s+|sérieux\s+)?"
    r"(?:soucis|problèmes|problemes|ennuis|pépins|pepins)\s+de\s+santé)\b"
    r"|\b(?P<m>mes\s+(?:gros\s+|graves\s+)?(?:soucis|problèmes|problemes|ennuis)\s+de\s+santé)\b",
    re.IGNORECASE,
)
_CONDITIONS = (
    r"cancer|chimio(?:thérapie)?|grossesse|fausse\s+couche|hospitalisation|dépression|depression"
    r"|burn-out|burnout|handicap|rqth|avc|infarctus|maladie(?:\s+chronique)?|opération|operation"
    r"|mi-temps\s+thérapeutique|temps\s+partiel\s+thérapeutique"
)
_CONDITION_RE = re.compile(
    rf"(?P<c>\b(?:mon|ma)\s+(?:{_CONDITIONS})\b)"
    rf"|\b(?:j['’]ai|j['’]avais)\s+(?:eu|fait)\s+(?P<d>(?:un|une)\s+(?:{_CONDITIONS})\b)"
    r"|\b(?:je\s+suis|j['’]étais|j['’]etais|étant|etant|j['’]ai\s+été|j['’]ai\s+ete)\s+"
    r"(?P<e>enceinte|hospitalisée?|opérée?)\b"
    r"|(?P<f>\b(?:sous|en)\s+(?:chimio(?:thérapie)?|radiothérapie|dialyse)\b)",
    re.IGNORECASE,
)
_PERSON_NOUNS = (
    r"homme|femme|gars|mec|fille|garçon|garcon|nana|jeune|senior|ancien|ancienne|cadre|agent|agente"
    r"|technicien|technicienne|conseiller|conseillère|conseillere|gestionnaire|juriste|infirmier"
    r"|infirmière|médecin|assistant|assistante|secrétaire|manager|informaticien|informaticienne"
    r"|comptable|auditeur|auditrice|contrôleur|contrôleuse|inspecteur|inspectrice|référent|référente"
    r"|expert|experte|formateur|formatrice|apprenti|apprentie|alternant|alternante|stagiaire"
    r"|intérimaire|interimaire|contractuel|contractuelle|titulaire|personne|collègue|maman|papa"
    r"|mère|père|célibataire|noir|noire|handicapé|handicapée|musulman|musulmane|étranger|étrangère"
)
# "En tant que déléguée syndicale, …": a role held by few people in a team identifies them.
_ROLE_RE = re.compile(
    rf"\b{_WHO}\s+(?P<r>(?:l[ea]\s+|l['’]|une?\s+)?(?:seule?\s+)?"
    r"(?:référente?|referente?|correspondante?|déléguée?|deleguee?|élue?|elue?|représentante?"
    r"|representante?|secrétaire|trésorière?|tresoriere?|tuteur|tutrice|formateur|formatrice"
    r"|sauveteur|assistante?\s+de\s+prévention|préventeur|préventrice|apprentie?|alternante?"
    r"|stagiaire|intérimaire|interimaire)"
    r"(?:\s+(?:syndicale?|du\s+personnel|du\s+cse|au\s+cse|cse|rps|handicap|rgpd|qualité|qualite"
    r"|sécurité|securite|prévention|prevention|informatique|paie|formation|secouriste"
    r"|interne|du\s+service|de\s+l['’]équipe))*)\b",
    re.IGNORECASE,
)
_TEAM_NOUNS = (
    r"équipe|equipe|service|pôle|pole|groupe|site|agence|bureau|plateau|unité|unite|antenne"
    r"|cellule|caisse|département|departement|boîte|boite|maison|open\s+space"
)
# "le seul gars du service", "on est les deux seules à l'antenne"; not "le seul problème" nor
# "le feedback ne repose plus sur le seul manager".
_UNIQUE_RE = re.compile(
    rf"\b(?P<who>{_WHO}\s+)?"
    r"(?P<u>(?:l[ea]s?\s+|l['’]\s*)(?:(?:deux|trois|quatre)\s+)?seul(?:e|s|es)?"
    rf"(?P<noun>\s+(?:{_PERSON_NOUNS})s?\b)?)"
    rf"(?P<team>\s+(?:de|du|des|d['’])\s*(?:l['’]|la\s+|le\s+)?(?:{_TEAM_NOUNS})\b)?"
    r"(?P<then>\s+(?:à|a|qui)\b)?",
    re.IGNORECASE,
)
# "le plus ancien dossier" is about files: a rank identifies a person only when it is said of
# someone ("je suis la plus âgée", "étant le plus jeune du service").
_RANK_RE = re.compile(
    r"\b(?P<who>(?:je\s+suis|tu\s+es|il\s+est|elle\s+est|c['’]est|étant|etant|être|etre"
    r"|moi\s+qui\s+suis)\s+)?"
    r"(?P<r>l[ea]\s+plus\s+(?:jeune|âgée?|agée?|ancienne?|vieux|vieille)\b"
    rf"(?P<team>\s+(?:de|du|des|d['’])\s*(?:l['’]|la\s+|le\s+)?(?:{_TEAM_NOUNS})\b)?)"
    r"|\b(?P<s>l[ea]\s+(?:doyenne?|benjamine?)|l[ea]\s+petite?\s+(?:dernière?|derniere?|nouvelle?|jeune))\b",
    re.IGNORECASE,
)
_AGE_RE = re.compile(
    r"\b(?:j['’]ai|j['’]avais|j['’]aurai|je\s+vais\s+avoir|il\s+a|elle\s+a|il\s+avait|elle\s+avait"
    r"|ayant|âgée?\s+de|agée?\s+de|à\s+l['’]âge\s+de|a\s+l['’]age\s+de|à\s+mes|à\s+ses|de\s+mes|de\s+ses)\s+"
    r"(?P<a>(?:1[89]|[2-6]\d|70)\s*ans)\b(?!\s+(?:d['’]ancienneté|d['’]anciennete|de\s+maison|de\s+boîte"
    r"|d['’]expérience|d['’]experience|de\s+service|de\s+carrière|dans|ici|chez|au|à|en))"
    r"|\((?P<b>(?:1[89]|[2-6]\d|70)\s*ans)\)"
    r"|\b(?P<c>quinquagénaire|sexagénaire|quadragénaire|trentenaire|quinqua|quadra|sexa)\b",
    re.IGNORECASE,
)
_SINCE_YEAR_RE = re.compile(
    r"\b(?:depuis|dès|des|arrivée?s?\s+en|entrée?s?\s+en|embauchée?s?\s+en|recrutée?s?\s+en"
    r"|mutée?s?\s+en|titularisée?s?\s+en|née?s?\s+en)\s+(?:l['’]an\s+|fin\s+|début\s+|mi-)?"
    r"(?P<y>19[5-9]\d|20[0-3]\d)\b",
    re.IGNORECASE,
)
_ARRIVAL_RE = re.compile(
    r"\b(?:arrivée?s?|embauchée?s?|recrutée?s?|mutée?s?|entrée?s?|intégrée?s?|revenue?s?)\s+"
    r"(?:ici\s+|chez\s+nous\s+|dans\s+l['’]équipe\s+|dans\s+le\s+service\s+)?"
    rf"(?:en|au\s+mois\s+d['’e]|début|fin|mi-|le\s+\d{{1,2}})\s*(?P<m>(?:{_MONTHS})(?:\s+(?:19|20)\d{{2}})?)\b",
    re.IGNORECASE,
)
_PART_TIME_RE = re.compile(
    r"\b(?:temps\s+partiel|mi-temps|(?:à\s+)?[5-9]0\s?%|4/5e?|quatre\s+cinquièmes?|en\s+repos"
    r"|ne\s+travaille\s+pas|ne\s+suis\s+pas\s+là|absente?|off)\s+"
    rf"(?P<d>(?:le|les)\s+(?:{_DAYS})s?(?:\s+(?:matin|après-midi|aprem|apres-midi))?)\b",
    re.IGNORECASE,
)

# --- Post-processing ---------------------------------------------------------------------------
_TITLE_BEFORE_PERSON_RE = re.compile(
    r"\b(?:M\.|MM\.|Mr\.?|Mme\.?|Mmes\.?|Mlle\.?|Madame|Monsieur|Mademoiselle|Dr\.?|Docteur|Pr\.?"
    r"|Professeur)\s*" + re.escape(PERSON),
    re.IGNORECASE,
)
_ELISION_BEFORE_RE = re.compile(r"\b([dD]|[qQ]u|[lL]orsqu|[pP]uisqu)['’](?=\[)")
_ELISION_FULL = {"d": "de", "D": "De", "qu": "que", "Qu": "Que", "lorsqu": "lorsque"}


def _merge_repeated(text: str, placeholder: str, separators: str) -> str:
    pattern = re.compile(re.escape(placeholder) + rf"(?:{separators}{re.escape(placeholder)})+")
    return pattern.sub(placeholder, text)


# --- Engine ------------------------------------------------------------------------------------
class _Lexicon:
    """Ordinary French words, from what the spaCy model ships.

    Two sources: the lemmatiser tables (lemmas and inflected forms; they have holes, "ligne" is
    missing) and the vocabulary of the word vectors, which is case-sensitive and ordered by
    frequency: a word whose lower-case form is frequent, or at least as frequent as its
    capitalised form, is an ordinary word ("ligne", "dispo", "ouvrez"); a word mostly seen
    capitalised is a proper noun ("Sophie", "Brieuc", "Eulalie"), whatever the tables say.

    Given names and surnames of the gazetteer are not "ordinary" (the tables contain many
    proper nouns: "caroline", "vincent"), except the common-word names listed above.
    """

    FREQUENT = 20_000  # lower-case forms ranked above this are ordinary words
    PROPER = 150_000  # capitalised forms ranked above this are known proper nouns

    def __init__(self, lemmas: Iterable[str], forms: Any = None, vector_keys: Any = None):
        self.lemmas = frozenset(w.lower() for w in lemmas)
        self.folded = frozenset(_fold(w) for w in self.lemmas)
        self.forms = forms
        self._sorted_keys = None
        self._order = None
        if vector_keys is not None and len(vector_keys):
            import numpy as np

            order = np.argsort(vector_keys, kind="stable")
            self._sorted_keys = vector_keys[order]
            self._order = order

    def rank(self, word: str) -> int | None:
        """Frequency rank of ``word`` (case-sensitive) in the vectors' vocabulary, if any."""
        if self._sorted_keys is None or self._order is None:
            return None
        import numpy as np
        from spacy.strings import get_string_id

        key = np.uint64(get_string_id(word))
        i = int(np.searchsorted(self._sorted_keys, key))
        if i < len(self._sorted_keys) and self._sorted_keys[i] == key:
            return int(self._order[i])
        return None

    def _frequent_word(self, word: str) -> bool:
        lower = self.rank(word.lower())
        if lower is None:
            return False
        upper = self.rank(word[:1].upper() + word[1:].lower())
        return lower < self.FREQUENT or upper is None or lower <= 1.2 * upper

    def _proper_noun(self, word: str) -> bool:
        upper = self.rank(word[:1].upper() + word[1:].lower())
        if upper is None or upper > self.PROPER:
            return False
        lower = self.rank(word.lower())
        return lower is None or lower > 3 * upper

    def proper_when_capitalised(self, word: str) -> bool:
        upper = self.rank(word[:1].upper() + word[1:].lower())
        if upper is None or upper > 450_000:
            return False
        lower = self.rank(word.lower())
        return lower is None or lower > 1.5 * upper

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or not word:
            return False
        folded = _fold(word)
        if folded in STOP_WORDS or folded in COMMON_WORD_NAMES:
            return True
        if folded in FIRST_NAMES or folded in SURNAMES:
            return False
        if self._proper_noun(word):
            return False
        return self.raw(word)

    def raw(self, word: str) -> bool:
        """In the tables at all, names included ("lise" is a form of "lire").

        Accents count when the word has some ("Loïs" is not "lois"); a word typed without
        accents is compared without them ("tres" is "très").
        """
        folded = _fold(word)
        if folded in STOP_WORDS:
            return True
        lower = word.lower()
        in_forms = self.forms is not None and lower in self.forms
        if lower == folded:
            in_tables = in_forms or folded in self.folded
        else:
            in_tables = in_forms or lower in self.lemmas
        return in_tables or self._frequent_word(word)


@dataclass
class _Engine:
    nlp: Any
    analyzer: Any
    nlp_engine: Any
    lexicon: _Lexicon


_engine: _Engine | None = None
_load_lock = threading.Lock()
_run_lock = threading.Lock()


def _build_lexicon(nlp: Any) -> _Lexicon:
    words: set[str] = set(nlp.Defaults.stop_words)
    forms = None
    lookups = nlp.get_pipe("lemmatizer").lookups
    if lookups.has_table("lemma_index"):
        for values in lookups.get_table("lemma_index").values():
            words.update(values)
    if lookups.has_table("lemma_lookup"):
        forms = lookups.get_table("lemma_lookup")
        for values in forms.values():
            words.update(values if isinstance(values, list) else [values])
    vectors = nlp.vocab.vectors
    keys = None
    if len(vectors.key2row):
        import numpy as np

        keys = np.fromiter(vectors.key2row.keys(), dtype=np.uint64, count=len(vectors.key2row))
    return _Lexicon((w for w in words if w), forms, keys)


def _load() -> _Engine:
    # Before Presidio is imported: its e-mail recogniser would otherwise let tldextract fetch
    # the public suffix list (settings sets it too; this module may be used without Django).
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    # Presidio logs its set-up at INFO ("Loaded recognizer…") on every process start.
    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    nlp = spacy.load(SPACY_MODEL)
    ner_config = NerModelConfiguration(
        model_to_presidio_entity_mapping={"PER": "PERSON", "LOC": "LOCATION", "MISC": "MISC"},
        labels_to_ignore=["ORG"],
        low_score_entity_names=[],
    )
    nlp_engine = SpacyNlpEngine(
        models=[{"lang_code": "fr", "model_name": SPACY_MODEL}], ner_model_configuration=ner_config
    )
    # Hand the already loaded pipeline to Presidio: its own load() would try to download a model
    # it does not find, and we never want a download at run time.
    nlp_engine.nlp = {"fr": nlp}
    registry = RecognizerRegistry(supported_languages=["fr"])
    registry.add_recognizer(
        SpacyRecognizer(supported_language="fr", supported_entities=["PERSON", "LOCATION", "MISC"])
    )
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=["fr"])
    return _Engine(nlp=nlp, analyzer=analyzer, nlp_engine=nlp_engine, lexicon=_build_lexicon(nlp))


def _get_engine() -> _Engine:
    global _engine
    if _engine is None:
        with _load_lock:
            if _engine is None:
                _engine = _load()
    return _engine


def anonymiser_warmup() -> None:
    """Load the spaCy model and the Presidio engine now rather than on the first text."""
    anonymise_many(["Bonjour Camille, merci."])


# --- Known names (deny-list) -------------------------------------------------------------------
@dataclass
class _KnownNames:
    words: set[str] = field(default_factory=set)
    logins: list[re.Pattern[str]] = field(default_factory=list)


def _known_names(names: Iterable[str]) -> _KnownNames:
    known = _KnownNames()
    firsts: list[str] = []
    lasts: list[str] = []
    for full in names:
        if not isinstance(full, str):
            continue
        parts = [p for p in re.split(r"[\s,]+", full.strip()) if p]
        folded = [_fold(p.strip(".")) for p in parts]
        folded = [p for p in folded if p and p not in _PARTICLES and len(p) >= 2]
        for word in folded:
            known.words.add(word)
            if "-" in word:
                known.words.update(
                    c for c in word.split("-") if len(c) >= 2 and c not in _PARTICLES
                )
        if len(folded) >= 2:
            firsts.append(folded[0])
            lasts.append(folded[-1].replace("'", "").replace("-", ""))
    for first, last in zip(firsts, lasts, strict=True):
        f = re.escape(first.replace("-", ""))
        initial = re.escape(first[0])
        last_e = re.escape(last)
        variants = [
            rf"{initial}[._]?{last_e}",
            rf"{last_e}[._]?{initial}",
            rf"{f}[._]{last_e}",
            rf"{last_e}[._]{f}",
        ]
        known.logins.append(
            re.compile(rf"(?<![\w@.])(?:{'|'.join(variants)})\d{{0,4}}(?![\w@])", re.I)
        )
    return known


# --- Regex layer -------------------------------------------------------------------------------
Span = tuple[int, int, str, int]


def _nir_ok(raw: str) -> bool:
    digits = re.sub(r"[ .\-]", "", raw).upper()
    if len(digits) not in (13, 15):
        return False
    body, key = digits[:13], digits[13:]
    if not re.fullmatch(r"[1-478]\d{4}(?:\d{2}|2[AB])\d{6}", body):
        return False
    month = int(body[3:5])
    structure = month != 0 and not 13 <= month <= 19
    if key:
        number = int(body.replace("2A", "19").replace("2B", "18"))
        if 97 - number % 97 == int(key):
            return True
    # The key is checked but not required: a typo in the key still leaves a social security
    # number that must not be shown.
    return structure


def _iban_ok(raw: str) -> bool:
    compact = raw.replace(" ", "")
    if compact.startswith("FR") and len(compact) == 27:
        return True
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _luhn_ok(raw: str) -> bool:
    digits = [int(c) for c in raw if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _street_end(text: str, pos: int, *, first_any_case: bool) -> int:
    """End of a street name that starts at pos (after the street type)."""
    end = pos
    if first_any_case:
        m = _STREET_FIRST_RE.match(text, end)
        if m and not re.match(r"\s*[,.;:()\n]", text[end:]):
            end = m.end()
    for _ in range(8):
        m = _STREET_CONT_RE.match(text, end)
        if not m or "\n" in m.group(0):
            break
        end = m.end()
    return end


def _regex_spans(text: str, lexicon: _Lexicon, known: _KnownNames) -> list[Span]:
    spans: list[Span] = []

    def add(start: int, end: int, placeholder: str, priority: int = _P_REGEX) -> None:
        if end > start:
            spans.append((start, end, placeholder, priority))

    for m in _EMAIL_RE.finditer(text):
        add(m.start(), m.end(), EMAIL)
    for m in _URL_RE.finditer(text):
        # A bare public site ("www.ameli.fr") is no personal data; a path or a query may be.
        url = m.group(0).rstrip(".,;:!?")
        rest = re.sub(r"^(?:https?://)?[^/?#]+", "", url, flags=re.IGNORECASE)
        if rest.strip("/"):
            add(m.start(), m.start() + len(url), URL)
    for m in _IP_RE.finditer(text):
        add(m.start(), m.end(), IP)
    for m in _IBAN_RE.finditer(text):
        if _iban_ok(m.group(0)):
            add(m.start(), m.end(), IBAN)
    for m in _NIR_RE.finditer(text):
        raw = m.group(0).rstrip(" .-")
        if _nir_ok(raw):
            add(m.start(), m.start() + len(raw), NIR)
        elif len(re.sub(r"\D", "", raw)) >= 13:
            add(m.start(), m.start() + len(raw), NUMBER)
    for m in _CARD_RE.finditer(text):
        add(m.start(), m.end(), CARD if _luhn_ok(m.group(0)) else NUMBER)
    for m in _PHONE_RE.finditer(text):
        add(m.start(), m.end(), PHONE)
    for m in _EXTENSION_RE.finditer(text):
        add(m.start(1), m.end(1), PHONE)
    for m in _PLATE_RE.finditer(text):
        add(m.start(), m.end(), PLATE)
    for m in _BIRTH_RE.finditer(text):
        add(m.start("d"), m.end("d"), DATE)
    for m in _OLD_DATE_RE.finditer(text):
        add(m.start(), m.end(), DATE)
    for m in _STREET_NUM_RE.finditer(text):
        add(m.start(), _street_end(text, m.end(), first_any_case=True), ADDRESS)
    for m in _STREET_BARE_RE.finditer(text):
        end = _street_end(text, m.end(), first_any_case=False)
        if end > m.end():
            add(m.start(), end, ADDRESS)
    for m in _POSTCODE_CITY_RE.finditer(text):
        add(m.start(), m.end(), ADDRESS)
    for m in _POSTCODE_KEYWORD_RE.finditer(text):
        if m.group(1):
            add(m.start(1), m.end(1), ADDRESS)
        else:
            add(m.start(), m.end(), ADDRESS)
    for m in _ID_RE.finditer(text):
        value = m.group("v")
        folded = _fold(value)
        looks_like_id = any(c.isdigit() for c in value) or (
            len(value) >= 4
            and folded.isalpha()
            and folded not in lexicon
            and folded not in STOP_WORDS
            and value == value.lower()
        )
        if re.fullmatch(r"[._\-]*", value) or not looks_like_id:
            continue
        keyword = _fold(m.group(0)[: m.start("v") - m.start()]).strip()
        if keyword.startswith("compte") and not any(c.isdigit() for c in value):
            continue
        add(m.start("v"), m.end("v"), IDENTIFIER)
    for m in _ID_NEAR_RE.finditer(text):
        add(m.start("v"), m.end("v"), IDENTIFIER)
    for m in _NUMBER_SIGN_RE.finditer(text):
        add(m.start(1), m.end(1), NUMBER)
    for m in _LONG_NUMBER_RE.finditer(text):
        add(m.start(), m.end(), NUMBER, _P_REGEX - 1)
    for m in _LOGIN_RE.finditer(text):
        letters = re.sub(r"[\d.]", "", m.group(0))
        if letters in _LOGIN_EXCEPTIONS or _fold(letters) in lexicon:
            continue
        add(m.start(), m.end(), IDENTIFIER, _P_REGEX - 1)
    for m in _HANDLE_RE.finditer(text):
        add(m.start(), m.end(), IDENTIFIER, _P_REGEX - 1)
    for pattern in known.logins:
        for m in pattern.finditer(text):
            add(m.start(), m.end(), IDENTIFIER)
    # A token like "jdupont" or "m.durand": one initial then a surname of the gazetteer.
    for m in re.finditer(r"(?<![\w@.])([a-z])[._]?([a-z]{3,})\d{0,4}(?![\w@])", text):
        if (
            m.group(2) in SURNAMES
            and m.group(2) not in COMMON_WORD_NAMES
            and _fold(m.group(0)) not in lexicon
        ):
            add(m.start(), m.end(), IDENTIFIER, _P_REGEX - 1)
    return spans


def _quasi_spans(text: str) -> list[Span]:
    spans: list[Span] = []

    def add(start: int, end: int, placeholder: str) -> None:
        spans.append((start, end, placeholder, _P_QUASI))

    for m in _RELATIVE_RE.finditer(text):
        add(m.start(), m.end(), RELATIVE)
    for m in _RELATIVES_RE.finditer(text):
        add(m.start(), m.end(), RELATIVES)
    for m in _LEAVE_RE.finditer(text):
        add(m.start("r"), m.end("r"), REASON)
    for m in _MY_ABSENCE_RE.finditer(text):
        plural = m.group("p").lower() == "mes"
        add(m.start("a"), m.end(), ABSENCES if plural else ABSENCE)
    for m in _HEALTH_RE.finditer(text):
        group = "h" if m.group("h") else "m"
        add(m.start(group), m.end(group), HEALTH)
    for m in _CONDITION_RE.finditer(text):
        group = next(g for g in "cdef" if m.group(g))
        add(m.start(group), m.end(group), PERSONAL)
    for m in _UNIQUE_RE.finditer(text):
        said_of_someone = m.group("who") and (m.group("noun") or m.group("team") or m.group("then"))
        if said_of_someone or (m.group("noun") and m.group("team")):
            add(m.start("u"), m.end("u"), DETAIL)
    for m in _ROLE_RE.finditer(text):
        add(m.start("r"), m.end("r"), DETAIL)
    for m in _RANK_RE.finditer(text):
        if m.group("s"):
            add(m.start("s"), m.end("s"), DETAIL)
        elif m.group("who") or m.group("team"):
            end = m.start("team") if m.group("team") else m.end("r")
            add(m.start("r"), end, DETAIL)
    for m in _AGE_RE.finditer(text):
        group = next(g for g in ("a", "b", "c") if m.group(g))
        if group == "b":
            add(m.start(), m.end(), AGE)
        else:
            add(m.start(group), m.end(group), AGE)
    for m in _SINCE_YEAR_RE.finditer(text):
        add(m.start("y"), m.end("y"), YEAR)
    for m in _ARRIVAL_RE.finditer(text):
        add(m.start("m"), m.end("m"), DATE)
    for m in _PART_TIME_RE.finditer(text):
        add(m.start("d"), m.end("d"), DAY)
    return spans


# --- Name layer --------------------------------------------------------------------------------
@dataclass
class _Tok:
    start: int
    end: int
    text: str
    fold: str
    shape: str  # "cap", "upper", "lower", "initial", "mixed"
    sent_start: bool
    pos: str = ""
    dep: str = ""
    ent: str = ""
    next_pos: str = ""
    lemma: str = ""
    kind: str = ""  # "name", "place", "title"


def _shape(word: str, text: str, end: int) -> str:
    letters = [c for c in word if c.isalpha()]
    if len(letters) == 1 and letters[0].isupper():
        return "initial" if text[end : end + 1] == "." else "upper"
    if all(c.isupper() for c in letters):
        return "upper"
    if letters[0].isupper():
        return "cap"
    if all(c.islower() for c in letters):
        return "lower"
    return "mixed"


_SENTENCE_END = ".!?…:;\n\r"


_ABBREVIATION_END_RE = re.compile(
    r"(?:\b[A-Z]|\bM|\bMM|\bMr|\bMme|\bMlle|\bDr|\bPr|\bSt|\bSte|\bav|\bbd)\.$"
)


def _is_sentence_start(text: str, start: int) -> bool:
    # A window is enough (and keeps long texts linear); fall back to the whole prefix when the
    # window holds only spaces and punctuation.
    before = text[max(0, start - 40) : start].rstrip(" \t«»\"“”'‘’(*•·–—-[")
    if not before and start > 40:
        before = text[:start].rstrip(" \t«»\"“”'‘’(*•·–—-[")
    if before.endswith(".") and _ABBREVIATION_END_RE.search(before):
        return False  # "Isabelle D. et…", "M. Martin"
    return not before or before[-1] in _SENTENCE_END


def _tokens(text: str, blocked: list[tuple[int, int]]) -> list[_Tok]:
    tokens: list[_Tok] = []
    for m in _WORD_RE.finditer(text):
        start, end = m.start(), m.end()
        if any(s < end and start < e for s, e in blocked):
            continue
        word = m.group(0)
        tokens.append(
            _Tok(
                start=start,
                end=end,
                text=word,
                fold=_fold(word),
                shape=_shape(word, text, end),
                sent_start=_is_sentence_start(text, start),
            )
        )
    return tokens


def _annotate(tokens: list[_Tok], doc: Any, results: Sequence[Any]) -> None:
    """Copy spaCy's part of speech and Presidio's entity labels onto our tokens."""
    by_char: dict[int, Any] = {}
    for t in doc:
        by_char[t.idx] = t
    ents = [(r.start, r.end, r.entity_type) for r in results]
    for tok in tokens:
        st = by_char.get(tok.start)
        if st is None:
            span = doc.char_span(tok.start, tok.end, alignment_mode="expand")
            st = span[0] if span is not None and len(span) else None
        if st is not None:
            tok.pos = st.pos_
            tok.dep = st.dep_
            tok.lemma = st.lemma_.lower() if len(st) == len(tok.text) else ""
            # The next spaCy token after our whole word (hyphenated words may be split).
            nxt = st
            while nxt.i + 1 < len(doc) and doc[nxt.i + 1].idx < tok.end:
                nxt = doc[nxt.i + 1]
            if nxt.i + 1 < len(doc):
                tok.next_pos = doc[nxt.i + 1].pos_
        for s, e, label in ents:
            if s < tok.end and tok.start < e:
                tok.ent = label
                break


def _adjacent(text: str, a: _Tok, b: _Tok) -> bool:
    gap = text[a.end : b.start]
    if a.shape == "initial" or a.kind == "title":
        return re.fullmatch(r"\.?[ \t]{0,2}", gap) is not None and "\n" not in gap
    return re.fullmatch(r"[ \t]{1,2}|-|['’]", gap) is not None


class _NameFinder:
    def __init__(self, text: str, tokens: list[_Tok], lexicon: _Lexicon, known: _KnownNames):
        self.text = text
        self.toks = tokens
        self.lexicon = lexicon
        self.known = known

    # Gazetteer / deny-list membership ------------------------------------------------------
    def _components(self, tok: _Tok) -> list[str]:
        return [c for c in tok.fold.split("-") if c]

    def in_gazetteer(self, tok: _Tok) -> bool:
        f = tok.fold
        if f in FIRST_NAMES or f in SURNAMES or f in self.known.words:
            return True
        # Jean-Pierre, Marie-Claire, Lefèvre-Martin: every part is a known name.
        parts = self._components(tok)
        return len(parts) > 1 and all(p in _ALL_NAMES or p in self.known.words for p in parts)

    def is_first_name(self, tok: _Tok) -> bool:
        parts = self._components(tok)
        return tok.fold in FIRST_NAMES or (len(parts) > 1 and parts[0] in FIRST_NAMES)

    def ambiguous(self, tok: _Tok) -> bool:
        """A name that is also an everyday word: needs evidence that it is used as a name."""
        parts = self._components(tok)
        if len(parts) > 1:
            return False
        return tok.fold in COMMON_WORD_NAMES or tok.fold in STOP_WORDS

    def ordinary(self, tok: _Tok) -> bool:
        """An ordinary French word or a word of the stop-list."""
        if tok.fold in STOP_WORDS or tok.text in self.lexicon:
            return True
        if (
            tok.lemma
            and tok.lemma != tok.text.lower()
            and tok.lemma in self.lexicon.lemmas
            and not self.in_gazetteer(tok)
        ):
            return True  # a conjugated or inflected form the tables do not list ("Ouvrez")
        parts = self._components(tok)
        return len(parts) > 1 and all(p in self.lexicon or p in STOP_WORDS for p in parts)

    def after_determiner(self, i: int) -> bool:
        if i == 0:
            return False
        prev = self.toks[i - 1]
        gap = self.text[prev.end : self.toks[i].start]
        if gap.strip(" '’") or prev.fold not in _DETERMINERS:
            return False
        # "le Petit Déjeuner", "Le Petit Déjeuner" at the start of a sentence; but "Mme Le Goff"
        # or "avec La Fontaine" inside a sentence are particles.
        return prev.shape == "lower" or prev.sent_start

    # Passes ---------------------------------------------------------------------------------
    def run(self) -> None:
        self._titles()
        self._dictionary()
        self._lowercase_proper_nouns()
        self._places()
        self._ner()
        self._ambiguous()
        for _ in range(4):
            if not self._extend():
                break

    def _mark(self, i: int, kind: str = "name") -> bool:
        if self.toks[i].kind:
            return False
        self.toks[i].kind = kind
        return True

    def _titles(self) -> None:
        """M., Mme, Dr… followed by a name: the strongest evidence, even for "M. Grand"."""
        toks = self.toks
        for i, tok in enumerate(toks):
            if tok.fold not in _TITLES or tok.kind:
                continue
            if tok.shape == "lower" and tok.fold not in ("mme", "mlle", "madame", "monsieur"):
                continue
            if tok.fold == "m" and self.text[tok.end : tok.end + 1] != ".":
                continue
            tok.kind = "title"
            names: list[int] = []
            pending: list[int] = []
            prev = tok
            j = i + 1
            while j < len(toks) and _adjacent(self.text, prev, toks[j]) and not toks[j].kind:
                nxt = toks[j]
                if nxt.fold in _PARTICLES and nxt.shape != "initial" and len(pending) < 2:
                    pending.append(j)
                elif nxt.shape == "initial" or (
                    nxt.shape in ("cap", "upper", "mixed")
                    and (nxt.fold not in STOP_WORDS or nxt.fold in SURNAMES)
                    and nxt.fold not in _TITLES
                ):
                    names += [*pending, j]
                    pending = []
                elif (
                    nxt.shape == "lower"
                    and not names
                    and not pending
                    and (nxt.fold in self.known.words or nxt.text not in self.lexicon)
                ):
                    names.append(j)
                else:
                    break
                prev = nxt
                j += 1
            if not names:
                tok.kind = ""
                continue
            for k in names:
                toks[k].kind = "name"

    def _dictionary(self) -> None:
        for i, tok in enumerate(self.toks):
            if tok.kind or not self.in_gazetteer(tok) or self.ambiguous(tok):
                continue
            if tok.shape in ("cap", "upper", "mixed"):
                self._mark(i)
            elif tok.shape == "lower" and len(tok.fold) >= 3:
                # Lower-case "sophie" or "nguyen": only for names that are not French words
                # ("lise" is also a form of "lire"), unless spaCy reads a proper noun.
                if tok.fold in SURNAMES and tok.fold not in FIRST_NAMES and len(tok.fold) < 4:
                    continue
                if (
                    not self.lexicon.raw(tok.text)
                    or tok.pos == "PROPN"
                    or tok.fold in self.known.words
                    and tok.pos in ("PROPN", "NOUN", "X", "")
                ):
                    self._mark(i)

    def _lowercase_proper_nouns(self) -> None:
        """ "merci à kenza": a lower-case word that is no French word but is a known proper noun
        when capitalised (the vectors' vocabulary sees "Kenza", hardly "kenza")."""
        for i, tok in enumerate(self.toks):
            if tok.kind or tok.shape != "lower" or len(tok.fold) < 3 or tok.fold in STOP_WORDS:
                continue
            if self.lexicon.raw(tok.text) or self.after_determiner(i):
                continue
            if not self.lexicon.proper_when_capitalised(tok.text):
                continue
            # Only where a person is expected: English words ("open space") are no French words
            # either and are capitalised proper nouns in the vectors too ("Space").
            prev = self.toks[i - 1] if i else None
            cue = prev is not None and prev.fold in _PERSON_CUES and _adjacent(self.text, prev, tok)
            if cue or (tok.sent_start and self._verb_follows(i)):
                self._mark(i, "place" if tok.fold in PLACES else "name")

    def _unknown_person_like(self, i: int) -> bool:
        tok = self.toks[i]
        if tok.shape not in ("cap", "mixed") or self.ordinary(tok) or len(tok.fold) < 2:
            return False
        if tok.sent_start and (
            tok.pos in ("VERB", "AUX", "ADJ", "ADV", "ADP", "DET", "PRON", "SCONJ", "CCONJ", "NUM")
            or tok.fold.endswith(("ez", "ons"))
        ):
            return False  # "Hiérarchisez vos propositions", "Anonymiser les cas"
        if tok.ent == "PERSON":
            return True
        if i > 0 and self.toks[i - 1].shape == "lower" and self.after_determiner(i):
            return False  # "le Flex Office": people rarely take an article
        if tok.sent_start:
            if tok.pos == "PROPN" and (tok.dep.startswith("nsubj") or tok.ent == "MISC"):
                return True
            # "Brieuc m'a aidé"; "Ylan : très bon manager" when spaCy agrees (feedback is full
            # of "Orga :", "Prio :" headings that are no French words either).
            after = self.text[tok.end : tok.end + 2].strip()
            tagged = tok.pos == "PROPN" or tok.ent in ("MISC", "LOCATION")
            return (
                self._verb_follows(i)
                or (tagged and after[:1] in (":", ","))
                or (after[:1] == ":" and len(tok.fold) >= 3)
            )
        # A capitalised word inside a sentence that is no French word: a name (or a place,
        # decided earlier), whatever the tagger thinks ("les consignes de Inaya").
        return True

    def _ner(self) -> None:
        for i, tok in enumerate(self.toks):
            if tok.kind:
                continue
            if tok.ent == "PERSON" and tok.shape == "upper" and len(tok.fold) >= 4:
                if not self.ordinary(tok):
                    self._mark(i)
                continue
            if self._unknown_person_like(i):
                prev = self.toks[i - 1].fold if i else ""
                if tok.fold in PLACES or (tok.ent == "LOCATION" and prev in _PLACE_ONLY):
                    self._mark(i, "place")  # "CP 75015, Paris", "en Bourgogne"
                else:
                    self._mark(i)

    def _ambiguous(self) -> None:
        for i, tok in enumerate(self.toks):
            if tok.kind or not self.in_gazetteer(tok) or not self.ambiguous(tok):
                continue
            if tok.fold in STOP_WORDS and tok.fold not in self.known.words:
                continue
            if tok.shape not in ("cap", "mixed"):
                continue
            if self.after_determiner(i):
                continue
            if not tok.sent_start:
                self._mark(i)
            elif self._verb_follows(i) or (
                self.text[tok.end : tok.end + 2].strip()[:1] == ":"
                and tok.fold in FIRST_NAMES
                and tok.fold not in _ADJECTIVE_NAMES
            ):
                # "Rose est partie", "Petit nous laisse": a bare common noun or adjective does
                # not start a French sentence as the subject of a verb; a name does.
                self._mark(i)
            elif (tok.pos == "PROPN" or tok.ent == "PERSON") and tok.next_pos in (
                "VERB",
                "AUX",
                "PRON",
                "PUNCT",
                "CCONJ",
                "ADV",
                "SCONJ",
            ):
                self._mark(i)

    def _verb_follows(self, i: int) -> bool:
        if i + 1 >= len(self.toks) or not _adjacent(self.text, self.toks[i], self.toks[i + 1]):
            return self.toks[i].next_pos in ("VERB", "AUX")
        nxt = self.toks[i + 1]
        return nxt.fold in _CLITICS or self.toks[i].next_pos in ("VERB", "AUX")

    def _extend(self) -> bool:
        """Surnames after first names, particles before surnames, neighbours of names."""
        changed = False
        toks = self.toks
        for i, tok in enumerate(toks):
            if tok.kind != "name":
                continue
            # Forward: particles then a capitalised word, or a capitalised word.
            j = i + 1
            prev = tok
            pending: list[int] = []
            while j < len(toks) and _adjacent(self.text, prev, toks[j]):
                nxt = toks[j]
                if nxt.kind:
                    if pending and nxt.kind == "name":
                        for k in pending:
                            changed |= self._mark(k)
                    break
                if nxt.fold in _PARTICLES and nxt.shape != "initial" and len(pending) < 2:
                    pending.append(j)
                    prev = nxt
                    j += 1
                    continue
                if nxt.shape == "initial" or (
                    nxt.shape in ("cap", "upper", "mixed")
                    and nxt.fold not in STOP_WORDS
                    and not nxt.sent_start
                    and (self.in_gazetteer(nxt) or not self.ordinary(nxt) or nxt.pos == "PROPN")
                    and not (
                        nxt.shape == "upper" and len(nxt.fold) <= 4 and not self.in_gazetteer(nxt)
                    )
                ):
                    for k in [*pending, j]:
                        changed |= self._mark(k)
                    pending = []
                    prev = nxt
                    j += 1
                    continue
                if (
                    nxt.shape == "lower"
                    and self.is_first_name(tok)
                    and not pending
                    and len(nxt.fold) >= 3
                    and not self.lexicon.raw(nxt.text)
                    and nxt.pos not in ("VERB", "AUX", "ADJ", "ADV", "ADP", "DET", "CCONJ", "SCONJ")
                ):
                    changed |= self._mark(j)
                    prev = nxt
                    j += 1
                    continue
                break
            # Backward: capitalised particles ("Le Goff", "De Oliveira") and surnames written
            # first ("DUPONT Jean").
            k = i - 1
            while k >= 0 and _adjacent(self.text, toks[k], toks[k + 1]):
                before = toks[k]
                if before.kind:
                    break
                if before.fold in _CAP_PARTICLES and before.shape == "cap":
                    changed |= self._mark(k)
                    k -= 1
                    continue
                if before.shape == "upper" and (
                    self.in_gazetteer(before)
                    or (
                        not self.ordinary(before)
                        and (len(before.fold) >= 5 or before.ent == "PERSON")
                    )
                ):
                    changed |= self._mark(k)
                    k -= 1
                    continue
                if (
                    before.shape == "cap"
                    and not before.sent_start
                    and not self.ordinary(before)
                    and before.fold not in _TITLES
                ):
                    changed |= self._mark(k)
                    k -= 1
                    continue
                if before.shape == "initial":
                    changed |= self._mark(k)
                    k -= 1
                    continue
                break
        return changed

    def _places(self) -> None:
        toks = self.toks
        for i, tok in enumerate(toks):
            if tok.kind or tok.shape not in ("cap", "upper", "mixed"):
                continue
            if tok.fold in STOP_WORDS or tok.shape == "upper" and len(tok.fold) <= 4:
                continue
            is_place = tok.ent == "LOCATION" or tok.fold in PLACES
            if not is_place:
                continue
            if (
                tok.fold not in PLACES
                and self.ordinary(tok)
                and (tok.sent_start or tok.pos != "PROPN")
            ):
                continue
            # A cue just before: "à Lyon", "l'antenne de Vienne", "CPAM de la Sarthe".
            k = i - 1
            while k >= 0 and toks[k].fold in ("la", "le", "les", "l") and not toks[k].sent_start:
                k -= 1
            if k < 0:
                continue
            if toks[k].kind == "place":
                tok.kind = "place"
                continue
            if toks[k].fold in _PLACE_PREPOSITIONS and tok.fold in PLACES:
                tok.kind = "place"
                continue
            while k >= 0 and (
                toks[k].fold in _PLACE_PREPOSITIONS or toks[k].fold in ("la", "le", "l")
            ):
                k -= 1
            if k >= 0 and toks[k].fold in _PLACE_NOUNS:
                tok.kind = "place"

    def spans(self) -> list[Span]:
        out: list[Span] = []
        toks = self.toks
        i = 0
        while i < len(toks):
            tok = toks[i]
            if tok.kind not in ("name", "place", "title"):
                i += 1
                continue
            kind = "place" if tok.kind == "place" else "name"
            j = i
            while j + 1 < len(toks) and toks[j + 1].kind in ("name", "title", "place"):
                nxt = toks[j + 1]
                if ("place" if nxt.kind == "place" else "name") != kind:
                    break
                if not _adjacent(self.text, toks[j], nxt):
                    # "Jean de La Fontaine": particles between two names were marked too.
                    break
                j += 1
            if tok.kind == "title" and j == i:
                i += 1
                continue
            end = toks[j].end
            if toks[j].shape == "initial" and self.text[end : end + 1] == ".":
                end += 1
            out.append((tok.start, end, PERSON if kind == "name" else PLACE, _P_NAME))
            i = j + 1
        return out


# --- Assembly ------------------------------------------------------------------------------------
def _resolve(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans, higher priority first, then longer."""
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (-s[3], -(s[1] - s[0]), s[0])):
        if all(span[1] <= c[0] or c[1] <= span[0] for c in chosen):
            chosen.append(span)
    return sorted(chosen)


def _apply(text: str, spans: list[Span]) -> str:
    parts: list[str] = []
    pos = 0
    for start, end, placeholder, _priority in spans:
        parts.append(text[pos:start])
        parts.append(placeholder)
        pos = end
    parts.append(text[pos:])
    out = "".join(parts)
    out = _TITLE_BEFORE_PERSON_RE.sub(PERSON, out)
    out = re.sub(r"@" + re.escape(PERSON), PERSON, out)
    out = _merge_repeated(out, PERSON, r"[ \t]*-?[ \t]*")
    out = _merge_repeated(out, ADDRESS, r"[ \t]*[,;\-–]?[ \t]*")
    out = _merge_repeated(out, PLACE, r"[ \t]*-?[ \t]*")
    out = _ELISION_BEFORE_RE.sub(lambda m: _ELISION_FULL.get(m.group(1), m.group(1)) + " ", out)
    return out


def _anonymise_one(
    text: str, doc_results: tuple[Any, Sequence[Any]] | None, engine: _Engine, names: Iterable[str]
) -> str:
    known = _known_names(names)
    protected = [(m.start(), m.end()) for m in _PLACEHOLDER_RE.finditer(text)]
    regex_spans = [
        s for s in _regex_spans(text, engine.lexicon, known) if not _overlaps(s, protected)
    ]
    blocked = protected + [(s[0], s[1]) for s in regex_spans if s[3] >= _P_REGEX - 1]
    tokens = _tokens(text, blocked)
    if doc_results is not None:
        doc, results = doc_results
        _annotate(tokens, doc, results)
    finder = _NameFinder(text, tokens, engine.lexicon, known)
    finder.run()
    name_spans = finder.spans()
    quasi = [s for s in _quasi_spans(text) if not _overlaps(s, protected)]
    spans = _resolve(regex_spans + name_spans + quasi)
    return _apply(text, spans)


def _overlaps(span: Span, ranges: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in ranges)


def anonymise_many(
    texts: list[str], *, known_names_list: list[Iterable[str]] | None = None
) -> list[str]:
    """Anonymise a batch of texts (one spaCy ``pipe`` run); same order, same length."""
    if known_names_list is not None and len(known_names_list) != len(texts):
        raise ValueError("known_names_list must have one entry per text")
    engine = _get_engine()
    names_list: list[Iterable[str]] = (
        [list(n or ()) for n in known_names_list]
        if known_names_list is not None
        else [()] * len(texts)
    )
    outputs: list[str] = [t or "" for t in texts]
    todo = [i for i, t in enumerate(texts) if t and t.strip()]
    if not todo:
        return outputs
    with _run_lock:
        batch = engine.nlp_engine.process_batch(
            [texts[i] for i in todo], language="fr", batch_size=BATCH_SIZE
        )
        for i, (text, artifacts) in zip(todo, batch, strict=True):
            results = engine.analyzer.analyze(
                text=text,
                language="fr",
                entities=["PERSON", "LOCATION", "MISC"],
                nlp_artifacts=artifacts,
                score_threshold=0.0,
            )
            outputs[i] = _anonymise_one(text, (artifacts.tokens, results), engine, names_list[i])
    return outputs


def anonymise(text: str, *, known_names: Iterable[str] = ()) -> str:
    """Scrub personal data from one French text; see the module docstring for the rules."""
    return anonymise_many([text], known_names_list=[list(known_names)])[0]
