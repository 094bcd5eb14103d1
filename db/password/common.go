package password

import (
	"strings"
	"unicode/utf8"
)

// Limits of a new password. The minimum follows NIST SP 800-63B's advice
// for passwords as the only factor; the maximum only bounds the hashing work.
const (
	MinLength = 12  // characters
	MaxLength = 200 // bytes
)

// Problem returns why pw may not become a password, as a sentence to show
// next to the field, or "" when it is acceptable. It checks the length and
// refuses passwords attackers try first (see IsCommon).
func Problem(pw string) string {
	switch {
	case pw == "":
		return "Choose a password."
	case len(pw) > MaxLength:
		return "Use at most 200 characters."
	case utf8.RuneCountInString(pw) < MinLength:
		return "Use at least 12 characters."
	case IsCommon(pw):
		return "This password is too common: attackers try it first. Choose a less predictable one, for example a few unrelated words."
	}
	return ""
}

// IsCommon reports whether pw is a well-known password or an obvious
// pattern: on the list below (ignoring case), one character repeated, a
// run such as "123456789012" or "abcdefghijkl", a short piece repeated
// ("abcabcabcabc"), or a common word with only digits and symbols added
// ("Password2024!").
func IsCommon(pw string) bool {
	p := strings.ToLower(pw)
	if _, ok := commonSet[p]; ok {
		return true
	}
	if isRun(p) || isRepeat(p) {
		return true
	}
	base := strings.Trim(p, "0123456789!@#$%^&*()-_=+.,;:?/\\|~`'\"[]{}<> ")
	if base == "" {
		return true // only digits and symbols
	}
	if _, ok := commonWords[base]; ok {
		return true
	}
	// A common word written twice, e.g. "passwordpassword1".
	if len(base)%2 == 0 && base[:len(base)/2] == base[len(base)/2:] {
		if _, ok := commonWords[base[:len(base)/2]]; ok {
			return true
		}
	}
	return false
}

// isRun: every character is the one before plus or minus one ("12345…",
// "zyxw…").
func isRun(p string) bool {
	r := []rune(p)
	if len(r) < 2 {
		return false
	}
	step := r[1] - r[0]
	if step != 1 && step != -1 {
		return false
	}
	for i := 2; i < len(r); i++ {
		if r[i]-r[i-1] != step {
			return false
		}
	}
	return true
}

// isRepeat: the password is a piece of at most four characters repeated.
func isRepeat(p string) bool {
	r := []rune(p)
	for n := 1; n <= 4 && n < len(r); n++ {
		if len(r)%n != 0 {
			continue
		}
		same := true
		for i := n; i < len(r); i++ {
			if r[i] != r[i-n] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

var commonSet = toSet(commonPasswords)
var commonWords = toSet(commonBases)

func toSet(list string) map[string]struct{} {
	m := map[string]struct{}{}
	for _, l := range strings.Split(list, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = struct{}{}
		}
	}
	return m
}

// commonBases are words that people make "long enough" by adding digits or
// symbols. A password made of one of them plus only digits and symbols is
// refused.
const commonBases = `
password
passw0rd
p@ssw0rd
p@ssword
pass
passwort
motdepasse
contraseña
contrasena
wachtwoord
haslo
salasana
qwerty
qwertz
azerty
qwertyuiop
asdfgh
asdfghjkl
zxcvbn
zxcvbnm
qazwsx
letmein
welcome
welcomehome
iloveyou
loveyou
admin
administrator
root
user
login
guest
test
testing
default
changeme
secret
master
monkey
dragon
football
baseball
basketball
soccer
hockey
sunshine
princess
shadow
superman
batman
spiderman
starwars
pokemon
minecraft
fortnite
trustno1
whatever
freedom
hello
helloworld
michael
jennifer
jordan
thomas
charlie
daniel
jessica
ashley
andrew
nicole
matthew
robert
summer
winter
spring
autumn
january
february
march
april
june
july
august
september
october
november
december
monday
friday
fleetgate
fleet
company
office
computer
internet
mustang
ferrari
porsche
mercedes
toyota
harley
chelsea
liverpool
arsenal
barcelona
killer
hunter
ranger
tigger
cookie
chocolate
flower
butterfly
purple
orange
banana
cheese
pepper
ginger
buster
maggie
bailey
abc
abcdef
abcdefg
abcdefgh
`

// commonPasswords are passwords of 12 characters or more that show up again
// and again in published leaks, plus the obvious ones for this product.
// Written by hand, lower case; matching ignores case.
const commonPasswords = `
123456789012
1234567890123
12345678901234
123456789123
1234567891011
123123123123
123412341234
112233445566
111222333444
147258369147
123456123456
123456654321
987654321987
098765432109
1q2w3e4r5t6y
1q2w3e4r5t6y7u
1qaz2wsx3edc
1qaz2wsx3edc4rfv
!qaz@wsx#edc
zaq12wsxcde3
zaq1zaq1zaq1
q1w2e3r4t5y6
a1b2c3d4e5f6
qwertyuiopas
qwertyuiopasdf
qwertyuiop123
qwertyuiop12
qwerty123456
qwerty12345!
qwertyqwerty
qwerty123qwe
qwe123qwe123
asdfghjkl123
asdfghjklzxc
asdfasdfasdf
asdfqwerzxcv
zxcvbnm12345
zxcvbnmasdfg
qazwsxedcrfv
qazwsxedc123
1234qwerasdf
1234qwer!@#$
abcdefghijkl
abcdefgh1234
abcd1234abcd
abc123abc123
abcabc123123
aaaaaaaaaaaa
passwordpassword
password1234
password12345
password123456
password1234567
password2020
password2021
password2022
password2023
password2024
password2025
password2026
password123!
password!123
password1!23
password@123
password#123
passw0rd1234
p@ssw0rd1234
p@ssword1234
p@ssw0rd123!
mypassword123
mypassword1234
mynewpassword
newpassword123
newpassword1234
changeme1234
changemenow123
changeit12345
temppassword
temppassword1
temporarypassword
defaultpassword
secretpassword
supersecret123
topsecret1234
administrator
administrator1
administrator123
adminadmin123
admin1234567
admin123456789
adminpassword
rootpassword
rootroot1234
letmein12345
letmeinplease
letmeinnow123
welcome12345
welcome123456
welcome2024!
welcometomyworld
welcomehome123
iloveyou1234
iloveyou12345
iloveyouforever
iloveyoubaby
iloveyoutoo
iloveyousomuch
iloveyou4ever
iloveyou2much
iloveyou143143
loveyoubaby123
mylovemylife
foreverandalways
foreveryoung1
forevermore123
trustno1trustno1
trustnoone123
whatever1234
whatever12345
nothingtosee
nopassword123
donttellanyone
youllneverguess
cantremember
idontknow1234
idontcare123
ihateyou1234
hellohello123
helloworld123
helloworld1234
hellokitty123
goodmorning123
goodbye12345
thankyou1234
happybirthday
happybirthday1
happydays1234
happyness1234
sunshine1234
sunshine12345
princess1234
princess12345
prettyprincess
littleprincess
babygirl1234
babygirl12345
babyboy12345
sweetheart123
sweetie12345
blessed12345
jesuschrist1
jesusislord1
jesuslovesme
godisgood123
godisgreat12
godblessyou1
blessings123
christmas2024
merrychristmas
christmas123
halloween123
valentine123
summertime123
summer2024!!
wintertime12
springtime12
september123
november1234
december1234
january12345
monkeymonkey
monkey123456
dragon123456
dragondragon
dragonball123
dragonballz1
masterkey123
mastermaster
shadow123456
superman1234
superman12345
supermanbatman
batman123456
batmanbatman
spiderman123
spiderman1234
starwars1234
starwars12345
maythe4thbewithyou
pokemon12345
pokemongo123
minecraft123
minecraft1234
fortnite1234
callofduty123
playstation1
playstation2
playstation3
playstation4
playstation5
xboxlive1234
nintendo1234
supermario12
leagueoflegends
counterstrike
footballfootball
football1234
football12345
baseball1234
basketball12
basketball123
soccer123456
hockey123456
liverpool123
liverpoolfc1
manchesterunited
manchestercity
chelsea12345
arsenal12345
barcelona123
realmadrid123
juventus1234
newyorkcity1
newyork12345
losangeles12
californian1
chicagobulls
lakers123456
yankees12345
cowboys12345
steelers1234
patriots1234
mustang12345
ferrari12345
porsche12345
mercedesbenz
mercedes1234
harleydavidson
toyotacorolla
chevrolet123
volkswagen12
lamborghini1
michaeljordan
michael12345
jennifer1234
jessica12345
jordan123456
charlie12345
thomas123456
daniel123456
andrew123456
matthew12345
robert123456
william12345
elizabeth123
alexander123
christopher1
christopher12
christina123
stephanie123
katherine123
victoria1234
jonathan1234
benjamin1234
nicholas1234
samantha1234
jacqueline12
qwertyuiop1!
computer1234
computer12345
internet1234
microsoft123
windows10pro
windows12345
apple1234567
applepie1234
google123456
facebook1234
facebook12345
instagram123
linkedin1234
twitter12345
youtube12345
netflix12345
amazon123456
whatsapp1234
skype1234567
chocolate123
chocolate1234
cookiemonster
cheesecake12
strawberry12
strawberry123
blueberry123
pineapple123
watermelon12
butterfly123
butterfly1234
sunflower123
rainbow12345
unicorn12345
greenday1234
metallica123
nirvana12345
linkinpark12
beatles12345
rockandroll1
rockyou12345
blink1821234
myspace12345
friends12345
bestfriend12
bestfriends1
mybestfriend
familyfirst1
myfamily1234
mychildren12
mydaughter12
myson1234567
mommy1234567
mommyanddaddy
daddysgirl12
grandma12345
grandpa12345
anthony12345
princesa1234
contraseña123
contrasena123
motdepasse123
passwort1234
wachtwoord12
qwertz123456
azerty123456
azertyuiopqs
abcdefg12345
abcdefghij12
abcdefghijklm
abcdefghijklmn
zyxwvutsrqpo
lollollollol
hahahahahaha
hehehehehehe
testtesttest
test12345678
testing12345
testpassword
testuser1234
guestguest12
useruser1234
userpassword
loginlogin12
login1234567
access123456
accessgranted
accessdenied
opensesame12
passpasspass
secret123456
secretsecret
private12345
security1234
securepassword
strongpassword
strongpassword1
verystrongpassword
mysecurepassword
correcthorsebatterystaple
correcthorsebattery
thequickbrownfox
thequickbrownfoxjumps
onetwothreefour
zeroonetwothree
fleetgate123
fleetgate1234
fleetgate12345
fleetgate2024
fleetgate2025
fleetgate2026
fleetgatedemo
fleetgate-demo
fleetgatefleetgate
fleetmanager1
fleetmanagement
fleetpassword
fleet1234567
drivers12345
driver123456
vehicle12345
mileage12345
company12345
company123456
office123456
welcomeaboard
newemployee1
employee1234
companyname1
`
