package offline

// Sentence templates. {k} and {k2} are target keywords, {h}/{H} the heading
// text (lower-cased words / first letter capitalized), {noun} the kind of
// article, {F} (intro openers only) the full focus keyword in <strong>.

// introOpeners: the first three also read well with a "how to ..." keyword.
var introOpeners = []string{
	"If you have been searching for {F}, you are in the right place.",
	"There is a lot of advice about {F} out there, and not all of it is useful.",
	"Plenty of people search for {F} every day, and most of them want the same thing: clear, honest answers.",
	"{F} is one of those topics that looks simple until you try to get it right.",
	"Getting {F} right does not have to be complicated.",
	"Whether you are just starting out or want to do better, {F} is worth understanding properly.",
}

var introClosers = []string{
	"By the end, you will know what matters, what to skip and what to do next.",
	"Read it from start to finish, or jump straight to the section you need.",
	"Each section is short and practical, so you can put the ideas to work straight away.",
	"The goal is simple: help you make better decisions with less guesswork.",
}

var headingOpeners = []string{
	"This section covers {h} and why it matters for anyone interested in {k}.",
	"Let’s look more closely at {h}.",
	"When it comes to {h}, a few points are worth knowing.",
	"Here is what you should know about {h}.",
	"A lot of questions about {k} come back to {h}.",
	"Next up: {h}, and what it means for {k}.",
	"It is worth spending a moment on {h} before moving on.",
}

// itemOpeners introduce numbered steps and list items ({h} is the item text
// without its number, usually an imperative: "plan your approach").
var itemOpeners = []string{
	"This point is simple to state: {h}.",
	"The idea here is straightforward: {h}.",
	"Put simply: {h}.",
	"It sounds obvious, but it is easy to forget: {h}.",
	"Here the advice is clear: {h}.",
}

var questionOpeners = []string{
	"“{h}” is one of the first questions people ask, and the answer is simpler than it seems.",
	"A common question is “{h}” The honest answer depends on your situation, but a few principles apply in almost every case.",
	"Many readers start by asking “{h}” Here is a clear, practical answer.",
	"Before going further, it is worth answering “{h}” properly.",
}

var bodySentences = []string{
	"A little planning goes a long way with {k}, and it saves you from the most common frustrations.",
	"Most people find {k} easier once they understand a few simple principles.",
	"It helps to think about what you actually need from {k} before you look at any specific option.",
	"There is no single right answer here, because the best approach to {k} depends on your goals, your budget and your experience.",
	"Small details often make the biggest difference, so take the time to look at them closely.",
	"If you are new to {k}, start with the basics and build from there rather than trying to do everything at once.",
	"Experienced readers will recognise this advice, but it is worth repeating because it is so often ignored.",
	"A good rule of thumb is to keep things simple until you have a clear reason to add complexity.",
	"Write down what matters most to you; it makes every later decision about {k} faster.",
	"Be wary of advice that promises quick results, because real progress with {k} usually takes a little patience.",
	"Comparing two or three options side by side is often the quickest way to see what really matters.",
	"The right choice for someone else is not automatically the right choice for you.",
	"Think about where {k} will fit into your everyday routine, not just how things look on paper.",
	"Reading a few honest experiences from other people can reveal problems that product pages never mention.",
	"When in doubt, choose the option that is easier to change later.",
	"Cost matters, but value over time matters more than the price you pay on day one.",
	"It is also worth checking how your choices around {k} will hold up over months rather than days.",
	"Keep notes as you go, so you can see what worked and repeat it.",
	"Many problems with {k} come from skipping this step, so do not rush it.",
	"Once the fundamentals are in place, fine-tuning becomes much more rewarding.",
	"Think of {k} as a long-term project rather than a one-off decision.",
	"Asking one simple question, what problem am I trying to solve, clears up a lot of confusion.",
	"The good news is that you do not need to be an expert to get this right.",
	"Clear goals make it much easier to judge whether your approach to {k} is working for you.",
	"Try one change at a time, so you know which change made the difference.",
	"Quality tends to show in the details: materials, finish, support and how easy something is to live with.",
	"Do not be afraid to revisit your choices as your needs change.",
	"A realistic plan beats an ambitious one that you abandon after a week.",
	"Look for consistent feedback rather than a single glowing or angry opinion.",
	"It is easy to overthink {k}; a good decision made today beats a perfect one made never.",
	"Set aside a little time to test what you have learned before you commit.",
	"Where possible, start with a small step that is easy to undo.",
	"The most useful question is not what is best in general, but what is best for your situation.",
	"You will get more out of {k} if you understand why each step matters, not just what to do.",
	"Check the basics first; they explain most of the problems people run into.",
	"Be honest about how much time and money you want to invest in {k}.",
	"Trends come and go, so focus on what will still be useful to you a year from now.",
	"Build on what already works instead of starting over every time.",
	"If something feels unnecessarily complicated, there is usually a simpler way to do it.",
	"A short checklist can keep you on track when there are many things to remember.",
	"Progress with {k} is rarely a straight line, and that is perfectly normal.",
	"Spending a few extra minutes here can save hours of frustration later.",
	"Your own experience is the best guide you have, so pay attention to what it tells you.",
	"The difference between a good result and a great one often comes down to consistency.",
	"This is also the moment to think about {k2}, since it is closely connected to {k}.",
	"Many readers who ask about {k} also want to know about {k2}, so it is worth keeping both in mind.",
	"If you are also interested in {k2}, the same principles apply.",
}

var conclusionSentences = []string{
	"In short, success with {k} comes down to a little preparation and a lot of consistency.",
	"Start with the basics covered above, and refine your approach as you learn what works for you.",
	"If you take only one thing away from this {noun}, let it be this: good decisions about {k} start with knowing your own needs.",
	"Come back to this {noun} whenever you need a refresher on {k}.",
	"Whatever your starting point, the steps above will help you make steady progress.",
	"Take it one step at a time, and you will be surprised how quickly {k} starts to feel familiar.",
}
