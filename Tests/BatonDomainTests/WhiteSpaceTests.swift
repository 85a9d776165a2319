import Foundation
import PropertyBased
import Testing
import BatonDomain

@Suite("White space in text")
struct WhiteSpaceTests {
    /// Every scalar with Unicode's White_Space property; the zero-width space, which
    /// Foundation counts as white space too; some invisible ones it does not (BOM, word
    /// joiner); letters, a combining accent and an emoji.
    static let scalars: [Unicode.Scalar] = [
        "\u{09}", "\u{0A}", "\u{0B}", "\u{0C}", "\u{0D}", "\u{20}", "\u{85}", "\u{A0}", "\u{1680}",
        "\u{2000}", "\u{2001}", "\u{2002}", "\u{2003}", "\u{2004}", "\u{2005}", "\u{2006}", "\u{2007}",
        "\u{2008}", "\u{2009}", "\u{200A}", "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}",
        "\u{200B}", "\u{FEFF}", "\u{2060}", "a", "Z", "0", "\u{301}", "\u{1F600}", "é",
    ]
    static let texts = Gen.int(in: 0...(scalars.count - 1)).array(of: 0...8).map { indices in
        var text = String.UnicodeScalarView()
        text.append(contentsOf: indices.map { scalars[$0] })
        return String(text)
    }

    @Test("isBlank and trimmingWhiteSpace agree with Foundation's trimming of whitespacesAndNewlines")
    func agreesWithFoundation() async {
        await propertyCheck(count: 2_000, input: Self.texts) { text in
            let foundation = text.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(text.isBlank == foundation.isEmpty)
            #expect(String(text.trimmingWhiteSpace()) == foundation)
            #expect(String(text[...].trimmingWhiteSpace()) == foundation)
        }
    }

    @Test("what counts as blank")
    func examples() {
        #expect("".isBlank)
        #expect(" \t\r\n\u{A0}\u{3000}".isBlank)
        #expect("\u{200B}".isBlank)
        #expect(!"\u{FEFF}\u{2060}".isBlank)
        #expect(!" x ".isBlank)
        #expect(" \u{2003}Permit portal \n".trimmingWhiteSpace() == "Permit portal")
        #expect(" e\u{301} ".trimmingWhiteSpace() == "e\u{301}")
    }
}
